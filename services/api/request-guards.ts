import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequireRole } from './authenticate.js';
import { badParameter, sendProblem, type ParameterError } from './problem.js';

/**
 * Checks every API request passes before its route runs, whatever the route:
 *
 * - the API key is checked first (onRequest), so a caller without a valid key gets 401
 *   and learns nothing about parameters or bodies; the route checks the role it needs;
 * - no number is infinite: the validator coerces "1e309" to Infinity and lets it
 *   through as an integer within any maximum, and JSON.parse reads 1e309 as Infinity;
 * - a route without a query schema takes no query parameters: an unknown field is a 400,
 *   as on routes with one (additionalProperties: false), not silently ignored;
 * - no query or path number lies beyond ±2^53: ids and limits are integers the database
 *   compares as bigint, and "99999999999999999999" overflows it (a 500);
 * - no string holds U+0000, which PostgreSQL text cannot store or compare (it fails
 *   the query, which would be a 500).
 */
export function installRequestGuards(app: FastifyInstance, requireRole: RequireRole): void {
  app.addHook('onRequest', async (request) => {
    // CORS preflights carry no credentials (Fetch standard); the CORS plugin answers them.
    if (request.method === 'OPTIONS' || !request.url.startsWith('/api/')) return;
    await requireRole(request, 'reader');
  });
  app.addHook('preHandler', async (request) => {
    if (request.url.startsWith('/api/') && request.routeOptions.schema?.querystring === undefined) {
      const unknown = Object.keys(request.query as object)[0];
      if (unknown !== undefined) throw badParameter('query', unknown, 'is not a known field');
    }
    for (const [where, value] of [['query', request.query], ['path', request.params], ['body', request.body]] as const) {
      const bad = unusableValueAt(value, '', 0, where !== 'body');
      if (bad !== undefined) throw badParameter(where, bad.name || '(root)', bad.message);
    }
  });
}

/** The dotted path of the first non-finite number or string with U+0000 in `value`, and what is wrong with it. */
function unusableValueAt(value: unknown, path: string, depth: number, safeIntegerRange: boolean): { name: string; message: string } | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { name: path, message: 'must be a finite number' };
    return safeIntegerRange && Math.abs(value) > Number.MAX_SAFE_INTEGER ? { name: path, message: `must lie within ±${Number.MAX_SAFE_INTEGER}` } : undefined;
  }
  if (typeof value === 'string') return value.includes('\u0000') ? { name: path, message: 'must not contain U+0000' } : undefined;
  // Bodies are bounded by the body limit and the JSON depth of the schemas; this bounds the walk too.
  if (typeof value !== 'object' || value === null || depth > 32) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = unusableValueAt(item, path === '' ? key : `${path}.${key}`, depth + 1, safeIntegerRange);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Errors the router raises before any route or hook runs (an undecodable URL, a path
 * parameter longer than maxParamLength): problem+json like every other answer.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const errors: ParameterError[] = [{ in: 'path', name: '(path)', message: 'is not a valid or is too long a URL component' }];
  sendProblem(request, reply, 'bad_request', error.statusCode ?? 400, error.message.slice(0, 200), errors);
}
