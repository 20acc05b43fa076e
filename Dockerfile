# One image for every role: ROLES (broker, opcua, worker, api) picks what a container runs,
# see docker-compose.yml. Health checks live there, per service, because only the api
# role answers HTTP.

# --- build: compile TypeScript to dist/ --------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's allowScripts is enforced only by npm >= 11.16; the
# npm 10 in node:20 images ignores it and would run every install script. Running none
# behaves the same on both and needs nothing here: esbuild's postinstall only serves
# tsx/vitest (not `npm run build`), and msgpackr-extract (denied in allowScripts) loads
# its prebuilt binary from @msgpackr-extract/* at run time without an install step.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# --- runtime: production dependencies and dist/ only --------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR defaults to ./data and the stack creates it at start; the unprivileged user
# must own it. Compose sets DATABASE_URL, REDIS_URL and API_ADMIN_KEY, so nothing
# durable is written here.
RUN mkdir data && chown node:node data
USER node
EXPOSE 1883 8083 3000
# Exec form: node is PID 1 and receives SIGTERM itself, so `docker stop` runs the
# graceful shutdown (runtime/run-process.ts) instead of a kill after the grace period.
# The flags are `npm start`'s (test/docker-compose.test.ts holds them equal); why each: docs/benchmarks.md.
CMD ["node", "--max-semi-space-size=64", "--enable-source-maps", "dist/runtime/main.js"]
