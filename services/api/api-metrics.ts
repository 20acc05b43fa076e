import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/**
 * API latency by route (the route pattern, never the raw URL, so ids do not explode the
 * label set) and the Prometheus scrape endpoint. The registry belongs to the stack,
 * which adds the ingest, queue and broker metrics to it (runtime/stack-metrics.ts).
 */
export function installApiMetrics(app: FastifyInstance, registry: Registry): void {
  const latency = new Histogram({
    name: 'urbansense_http_request_duration_seconds',
    help: 'HTTP API request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    latency.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  // Unauthenticated like /healthz: Prometheus scrapes it, and it holds counts, never data or secrets.
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()));
}
