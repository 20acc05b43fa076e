import type { FastifyInstance } from 'fastify';
import { QUARANTINE_REASONS } from '../../../contracts/error-codes.js';
import { DEVICE_ID_PATTERN } from '../../../contracts/topics.js';
import { insertApiKey } from '../../../storage/api-keys-store.js';
import { listQuarantine } from '../../../storage/quarantine-store.js';
import { API_ROLES, generateApiKey, type ApiRole } from '../../auth/api-keys.js';
import type { ApiContext } from '../api-context.js';

const createKeyBody = {
  type: 'object',
  required: ['role', 'name'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...API_ROLES] },
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'Who or what uses the key.' },
  },
} as const;

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

/** Key issuing, the quarantine and the catalogue. */
export async function adminRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.post('/api/v1/api-keys', { schema: { body: createKeyBody } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const body = request.body as { role: ApiRole; name: string };
    const key = generateApiKey();
    const stored = await insertApiKey(context.db, { id: key.id, secretHash: key.secretHash, role: body.role, name: body.name });
    // The key exists in clear only in this answer.
    return reply.code(201).send({ id: stored.id, role: stored.role, name: stored.name, createdAt: stored.createdAt.toISOString(), key: key.token });
  });

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
