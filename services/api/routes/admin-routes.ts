import type { FastifyInstance } from 'fastify';
import { QUARANTINE_REASONS } from '../../../contracts/error-codes.js';
import { DEVICE_ID_PATTERN } from '../../../contracts/topics.js';
import { listQuarantine } from '../../../storage/quarantine-store.js';
import type { ApiContext } from '../api-context.js';

const quarantineQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    device: { type: 'string', pattern: DEVICE_ID_PATTERN.source },
    reason: { type: 'string', enum: Object.keys(QUARANTINE_REASONS) },
    before: { type: 'integer', minimum: 1, description: 'nextBefore of the previous page.' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

/** The quarantine and the catalogue. */
export async function adminRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.get('/api/v1/quarantine', { schema: { querystring: quarantineQuery } }, async (request) => {
    await context.requireRole(request, 'admin');
    const query = request.query as { device?: string; reason?: string; before?: number; limit: number };
    const entries = await listQuarantine(context.db, { deviceId: query.device, reason: query.reason, beforeId: query.before, limit: query.limit });
    const last = entries.at(-1);
    return {
      entries: entries.map((entry) => ({
        id: entry.id,
        device: entry.deviceId ?? null,
        source: entry.source,
        topic: entry.topic ?? null,
        receivedAt: entry.receivedAt.toISOString(),
        quarantinedAt: entry.quarantinedAt.toISOString(),
        reason: entry.reason,
        message: entry.message,
        payload: entry.payload,
        payloadEncoding: entry.payloadEncoding,
      })),
      nextBefore: entries.length === query.limit && last !== undefined ? last.id : null,
    };
  });

  app.get('/api/v1/metrics', async (request) => {
    await context.requireRole(request, 'reader');
    return { metrics: [...context.catalogue.values()] };
  });
}
