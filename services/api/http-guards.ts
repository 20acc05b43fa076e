import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseApiKey } from '../auth/api-keys.js';

export interface HttpGuardOptions {
  /** Requests per minute per API key (per client address without one); 0 turns the limit off. @defaultValue 0 */
  rateLimitPerMinute?: number;
  /** Origins CORS allows, or `['*']`; `undefined` sends no CORS headers. @defaultValue undefined */
  corsOrigins?: readonly string[];
}

/** Routes that are never limited: probes and scrapes must keep working when a client misbehaves. */
const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The bucket a request counts against: the key id of `Bearer usk_<id>_…` (so every
 * replica of a dashboard shares its key's budget, and one key cannot starve another),
 * else the client address. The secret part is never used, so it is never held here.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const token = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  const parsed = token === undefined ? undefined : parseApiKey(token);
  return parsed === undefined ? `ip:${request.ip}` : `key:${parsed.id}`;
}

/** Per-key rate limit (in-memory, per API process) and CORS, as configured. */
export async function installHttpGuards(app: FastifyInstance, options: HttpGuardOptions): Promise<void> {
  if (options.corsOrigins !== undefined) {
    const any = options.corsOrigins.length === 1 && options.corsOrigins[0] === '*';
    await app.register(cors, {
      origin: any ? '*' : [...options.corsOrigins],
      methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'last-event-id', 'x-request-id'],
      exposedHeaders: ['x-next-cursor', 'x-source', 'x-request-id', 'retry-after', 'location'],
      maxAge: 600,
    });
  }
  const max = options.rateLimitPerMinute ?? 0;
  if (max > 0) {
    await app.register(rateLimit, {
      max,
      timeWindow: 60_000,
      keyGenerator: rateLimitKey,
      allowList: (request) => UNLIMITED.has(request.url.split('?')[0] ?? ''),
      // Thrown, so the problem handler answers it as problem+json (too_many_requests).
      errorResponseBuilder: (_request, context) => Object.assign(new Error(`more than ${context.max} requests per minute; retry in ${Math.ceil(context.ttl / 1000)} s`), { statusCode: 429 }),
    });
  }
}
