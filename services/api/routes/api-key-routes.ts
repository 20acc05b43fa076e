import type { FastifyInstance } from 'fastify';
import { insertApiKey, listApiKeys, revokeApiKey, type ListedApiKey } from '../../../storage/api-keys-store.js';
import { API_ROLES, generateApiKey, type ApiRole } from '../../auth/api-keys.js';
import type { ApiContext } from '../api-context.js';
import { ProblemError } from '../problem.js';

const KEY_ID = '^[0-9a-f]{16}$';

const createKeyBody = {
  type: 'object',
  required: ['role', 'name'],
  additionalProperties: false,
  properties: {
    role: { type: 'string', enum: [...API_ROLES], description: 'reader: queries; operator: also device metadata and alert acknowledgement; admin: everything.' },
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'Who or what uses the key.' },
  },
} as const;

const listKeysQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { type: 'string', pattern: KEY_ID, description: 'nextAfter of the previous page.' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    revoked: { type: 'boolean', default: false, description: 'Also list revoked keys.' },
  },
} as const;

const keyIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: KEY_ID } } } as const;

function keyJson(key: ListedApiKey) {
  return { id: key.id, role: key.role, name: key.name, createdAt: key.createdAt.toISOString(), revokedAt: key.revokedAt?.toISOString() ?? null };
}

/** API key management (admin): issue, list, revoke. Only a hash of each secret is stored. */
export async function apiKeyRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.post('/api/v1/api-keys', { schema: { body: createKeyBody } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const body = request.body as { role: ApiRole; name: string };
    const key = generateApiKey();
    const stored = await insertApiKey(context.db, { id: key.id, secretHash: key.secretHash, role: body.role, name: body.name });
    // The key exists in clear only in this answer.
    return reply.code(201).send({ id: stored.id, role: stored.role, name: stored.name, createdAt: stored.createdAt.toISOString(), key: key.token });
  });

  app.get('/api/v1/api-keys', { schema: { querystring: listKeysQuery } }, async (request) => {
    await context.requireRole(request, 'admin');
    const query = request.query as { after?: string; limit: number; revoked: boolean };
    const keys = await listApiKeys(context.db, { afterId: query.after, limit: query.limit, includeRevoked: query.revoked });
    const last = keys.at(-1);
    return { keys: keys.map(keyJson), nextAfter: keys.length === query.limit && last !== undefined ? last.id : null };
  });

  app.delete('/api/v1/api-keys/:id', { schema: { params: keyIdParams } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const { id } = request.params as { id: string };
    if (!(await revokeApiKey(context.db, id))) throw new ProblemError('not_found', 404, `no active API key "${id}"`);
    return reply.code(204).send();
  });
}
