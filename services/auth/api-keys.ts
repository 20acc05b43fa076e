import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `usk_<id>_<secret>`. The id finds the row; only a SHA-256 of the
 * secret is stored. A slow hash is not needed here: the secret is 256 random bits,
 * not a password a person chose, and every API request verifies one.
 */

/**
 * Roles, least first: `reader` queries; `operator` also changes device metadata, disables
 * devices and acknowledges alerts; `admin` also registers and deletes devices, rotates
 * secrets, manages API keys and reads the quarantine.
 */
export const API_ROLES = ['reader', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** What each role may do includes everything the roles before it may do. */
export function roleAllows(held: ApiRole, required: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(required);
}

const KEY_PATTERN = /^usk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  id: string;
  secret: string;
}

export function generateApiKey(): { token: string; id: string; secretHash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { token: `usk_${id}_${secret}`, id, secretHash: hashApiSecret(secret) };
}

export function parseApiKey(token: string): ParsedApiKey | undefined {
  const match = KEY_PATTERN.exec(token);
  return match?.[1] !== undefined && match[2] !== undefined ? { id: match[1], secret: match[2] } : undefined;
}

export function hashApiSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares digests, not the raw strings, so timing reveals nothing about either. */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
