import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Liveness (the process answers) and readiness (its dependencies answer), unauthenticated for probes. */
export async function healthRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, Record<string, unknown>> = {};
    let ready = true;
    await Promise.all(
      context.readiness.map(async ({ name, check }) => {
        try {
          checks[name] = { status: 'ok', ...((await withTimeout(check(), CHECK_TIMEOUT_MS)) ?? {}) };
        } catch (error) {
          ready = false;
          checks[name] = { status: 'failing', error: (error as Error).message };
        }
      }),
    );
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
