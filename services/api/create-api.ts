import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { ApiContext } from './api-context.js';
import { Registry } from 'prom-client';
import { installApiMetrics } from './api-metrics.js';
import { installHttpGuards, type HttpGuardOptions } from './http-guards.js';
import { installOpenApi } from './openapi.js';
import { installProblemHandlers } from './problem.js';
import { answerFrameworkError, installRequestGuards } from './request-guards.js';
import { adminRoutes } from './routes/admin-routes.js';
import { alertRoutes } from './routes/alert-routes.js';
import { aqiRoutes } from './routes/aqi-routes.js';
import { apiKeyRoutes } from './routes/api-key-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { readingRoutes } from './routes/reading-routes.js';
import { snapshotRoutes } from './routes/snapshot-routes.js';
import { streamRoutes } from './routes/stream-routes.js';

/** The version the OpenAPI document states. */
const API_VERSION = '1.0.0';

/** How the HTTP layer behaves, apart from the routes. */
export interface HttpOptions extends HttpGuardOptions {
  /** The stack's Prometheus registry, served at /metrics with API latency added. @defaultValue a registry of the API's own */
  metrics?: Registry;
  /** PEM certificate chain and key: the API then speaks HTTPS only (API_TLS). @defaultValue plain HTTP */
  https?: { cert: Buffer; key: Buffer };
}

export interface ApiOptions extends HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request body. @defaultValue 65536 */
  bodyLimitBytes?: number;
}

export interface Api {
  readonly app: FastifyInstance;
  readonly port: number;
  close(): Promise<void>;
}

/** Builds the routes without listening (tests use `app.inject`). */
export async function buildApi(context: ApiContext, logger?: FastifyBaseLogger, bodyLimitBytes = 65536, http: HttpOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // null: plain HTTP. Routes see the same request and reply objects either way.
    https: http.https ?? null,
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    bodyLimit: bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // Unknown fields are an error the caller should hear about, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: true } },
    return503OnClosing: true,
    // Bad URLs and over-long path parameters are answered as problem+json too.
    frameworkErrors: answerFrameworkError,
  });
  // A JSON API: other bodies are 415, not strings that fail validation later.
  app.removeContentTypeParser('text/plain');
  installProblemHandlers(app);
  await installHttpGuards(app, http);
  installRequestGuards(app, context.requireRole);
  installApiMetrics(app, http.metrics ?? new Registry());
  await installOpenApi(app, API_VERSION);
  await healthRoutes(app, context);
  await deviceRoutes(app, context);
  await readingRoutes(app, context);
  await snapshotRoutes(app, context);
  await streamRoutes(app, context);
  await adminRoutes(app, context);
  await apiKeyRoutes(app, context);
  await alertRoutes(app, context);
  await aqiRoutes(app, context);
  return app;
}

export async function createApi(options: ApiOptions, context: ApiContext, logger?: FastifyBaseLogger): Promise<Api> {
  const app = await buildApi(context, logger, options.bodyLimitBytes, options);
  await app.listen({ host: options.host, port: options.port });
  const port = (app.server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return { app, port, close: () => (closing ??= app.close()) };
}
