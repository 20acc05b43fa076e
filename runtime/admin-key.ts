import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateApiKey, hashApiSecret, parseApiKey, secretsEqual } from '../services/auth/api-keys.js';
import { countAdminKeys, findApiKey, insertApiKey } from '../storage/api-keys-store.js';
import type { Queryable } from '../storage/database.js';

export type AdminKeySource =
  | { kind: 'environment' }
  /** Generated now: the only time the key is shown. */
  | { kind: 'generated'; token: string; file: string }
  | { kind: 'file'; token: string; file: string }
  /** Admin keys exist in the database but none is known to this process. */
  | { kind: 'database' };

export const ADMIN_KEY_FILE = 'admin-api-key';

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Zero configuration still needs one admin key to register devices. When API_ADMIN_KEY
 * is unset the first start generates one, stores its hash, and keeps the key in a
 * mode-0600 file in DATA_DIR so `npm run demo` and the operator can find it again.
 */
export async function ensureAdminKey(db: Queryable, dataDir: string, environmentKey: string | undefined): Promise<AdminKeySource> {
  if (environmentKey !== undefined) return { kind: 'environment' };
  const file = path.resolve(dataDir, ADMIN_KEY_FILE);
  const saved = await readKeyFile(file);
  const parsed = saved === undefined ? undefined : parseApiKey(saved);
  if (saved !== undefined && parsed !== undefined) {
    const stored = await findApiKey(db, parsed.id);
    if (stored !== undefined && stored.role === 'admin' && secretsEqual(hashApiSecret(parsed.secret), stored.secretHash)) {
      return { kind: 'file', token: saved, file };
    }
  }
  if ((await countAdminKeys(db)) > 0) return { kind: 'database' };
  const key = generateApiKey();
  await insertApiKey(db, { id: key.id, secretHash: key.secretHash, role: 'admin', name: 'generated at first start' });
  await writeFile(file, `${key.token}\n`, { mode: 0o600 });
  return { kind: 'generated', token: key.token, file };
}
