import type { FastifyRequest } from 'fastify';
import { parseApiKey, hashApiSecret, roleAllows, secretsEqual, type ApiRole } from '../auth/api-keys.js';
import type { Queryable } from '../../storage/database.js';
import { findApiKey } from '../../storage/api-keys-store.js';
import { ProblemError } from './problem.js';

export interface Principal {
  keyId: string;
  role: ApiRole;
}

export interface ApiKeyVerifierDeps {
  db: Queryable;
  /** The bootstrap admin key from API_ADMIN_KEY, checked without the database. */
  bootstrapAdminKey: string | undefined;
}

export type RequireRole = (request: FastifyRequest, role: ApiRole) => Promise<Principal>;

/** Resolves `Authorization: Bearer <key>` to a role, or throws 401/403 as problem+json. */
export function createRoleGuard(deps: ApiKeyVerifierDeps): RequireRole {
  async function identify(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (token === undefined) {
      throw new ProblemError('unauthorized', 401, 'send an API key as "Authorization: Bearer <key>"');
    }
    if (deps.bootstrapAdminKey !== undefined && secretsEqual(token, deps.bootstrapAdminKey)) {
      return { keyId: 'bootstrap', role: 'admin' };
    }
    const parsed = parseApiKey(token);
    const stored = parsed === undefined ? undefined : await findApiKey(deps.db, parsed.id);
    if (parsed === undefined || stored === undefined || !secretsEqual(hashApiSecret(parsed.secret), stored.secretHash)) {
      throw new ProblemError('unauthorized', 401, 'unknown or revoked API key');
    }
    return { keyId: stored.id, role: stored.role };
  }

  // The key is checked once per request: before validation (request-guards.ts) and again by the route.
  const identified = new WeakMap<FastifyRequest, Promise<Principal>>();
  const identifyOnce = (request: FastifyRequest): Promise<Principal> => {
    let principal = identified.get(request);
    if (principal === undefined) {
      principal = identify(request);
      identified.set(request, principal);
    }
    return principal;
  };

  return async (request, role) => {
    const principal = await identifyOnce(request);
    if (!roleAllows(principal.role, role)) {
      throw new ProblemError('forbidden', 403, `this route needs the ${role} role; the key has ${principal.role}`);
    }
    return principal;
  };
}
