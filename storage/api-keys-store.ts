import type { ApiRole } from '../services/auth/api-keys.js';
import type { Queryable } from './database.js';

export interface StoredApiKey {
  id: string;
  secretHash: string;
  role: ApiRole;
  name: string;
  createdAt: Date;
}

export async function insertApiKey(
  db: Queryable,
  key: { id: string; secretHash: string; role: ApiRole; name: string },
): Promise<StoredApiKey> {
  const result = await db.query<{ created_at: Date }>(
    'INSERT INTO api_keys (id, secret_hash, role, name) VALUES ($1, $2, $3, $4) RETURNING created_at',
    [key.id, key.secretHash, key.role, key.name],
  );
  return { ...key, createdAt: new Date(result.rows[0]?.created_at ?? Date.now()) };
}

/** An active (not revoked) key by id. */
export async function findApiKey(db: Queryable, id: string): Promise<StoredApiKey | undefined> {
  const result = await db.query<{ id: string; secret_hash: string; role: ApiRole; name: string; created_at: Date }>(
    'SELECT id, secret_hash, role, name, created_at FROM api_keys WHERE id = $1 AND revoked_at IS NULL',
    [id],
  );
  const row = result.rows[0];
  return row === undefined
    ? undefined
    : { id: row.id, secretHash: row.secret_hash, role: row.role, name: row.name, createdAt: new Date(row.created_at) };
}

export async function countAdminKeys(db: Queryable): Promise<number> {
  const result = await db.query<{ count: number }>(
    `SELECT count(*)::integer AS count FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL`,
  );
  return result.rows[0]?.count ?? 0;
}

/** An issued key as listed: never its hash. */
export interface ListedApiKey {
  id: string;
  role: ApiRole;
  name: string;
  createdAt: Date;
  revokedAt: Date | undefined;
}

/** Keys by id, after `afterId` (keyset paging); revoked ones only when asked. */
export async function listApiKeys(db: Queryable, query: { afterId: string | undefined; limit: number; includeRevoked: boolean }): Promise<ListedApiKey[]> {
  const result = await db.query<{ id: string; role: ApiRole; name: string; created_at: Date; revoked_at: Date | null }>(
    `SELECT id, role, name, created_at, revoked_at FROM api_keys
     WHERE id > COALESCE($1, '') AND ($2 OR revoked_at IS NULL)
     ORDER BY id LIMIT $3`,
    [query.afterId ?? null, query.includeRevoked, query.limit],
  );
  return result.rows.map((row) => ({
    id: row.id, role: row.role, name: row.name, createdAt: new Date(row.created_at), revokedAt: row.revoked_at === null ? undefined : new Date(row.revoked_at),
  }));
}

/** Revokes an active key; false when there is no such active key. */
export async function revokeApiKey(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query<{ id: string }>('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
  return result.rows.length > 0;
}
