import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiSecret, parseApiKey, secretsEqual } from './api-keys.js';
import { generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret } from './device-secrets.js';

/*
 * The comparison functions' behaviour (timing is not measured: tests never assert
 * wall-clock speed). Both compare fixed-length digests with crypto.timingSafeEqual, so
 * inputs of any length are compared without throwing and without an early exit.
 */
describe('device secrets', () => {
  it('are stored as salted scrypt hashes that never contain the secret', async () => {
    const secret = generateDeviceSecret();
    const [first, second] = [await hashDeviceSecret(secret), await hashDeviceSecret(secret)];
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second); // a salt of its own
    expect(first).not.toContain(secret);
  });

  it('verify the right secret only, and refuse malformed or truncated hashes without throwing', async () => {
    const secret = generateDeviceSecret();
    const stored = await hashDeviceSecret(secret);
    expect(await verifyDeviceSecret(secret, stored)).toBe(true);
    for (const wrong of [`${secret}x`, secret.slice(0, -1), '', secret.toUpperCase()]) expect(await verifyDeviceSecret(wrong, stored)).toBe(false);
    // A hash cut short has a digest of another length: false, where a bare timingSafeEqual would throw.
    for (const broken of [stored.slice(0, -4), 'plain-text-secret', 'scrypt$16384$8$1$salt', '', stored.replace('scrypt', 'bcrypt')]) {
      expect(await verifyDeviceSecret(secret, broken)).toBe(false);
    }
  });
});

describe('API keys', () => {
  it('are stored as the SHA-256 of their secret part only', () => {
    const key = generateApiKey();
    const parsed = parseApiKey(key.token);
    expect(parsed?.id).toBe(key.id);
    expect(key.secretHash).toBe(createHash('sha256').update(parsed?.secret ?? '').digest('hex'));
    expect(key.secretHash).not.toContain(parsed?.secret);
    expect(hashApiSecret(parsed?.secret ?? '')).toBe(key.secretHash);
  });

  it('compare equal strings as equal and anything else as different, whatever the lengths', () => {
    const key = generateApiKey().token;
    expect(secretsEqual(key, key)).toBe(true);
    expect(secretsEqual(key, `${key}`.slice(0))).toBe(true);
    for (const other of [`${key}x`, key.slice(0, -1), '', 'x'.repeat(10_000), key.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'))]) {
      expect(secretsEqual(key, other)).toBe(false);
      expect(secretsEqual(other, key)).toBe(false);
    }
  });
});
