import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3 generated from the route schemas (so the document cannot drift from the
 * validation), served at /docs/json with Swagger UI at /docs. Registered before the
 * routes: @fastify/swagger collects them as they are added.
 */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'urbansense API',
        version,
        description: 'Time-series queries, devices, API keys and the quarantine. Errors are RFC 9457 problem documents (`application/problem+json`) whose `errors` name each bad parameter. Authenticate with `Authorization: Bearer usk_…`; roles are reader < operator < admin.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key: usk_<id>_<secret>.' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
