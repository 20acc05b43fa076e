import type { Queryable } from '../../storage/database.js';
import { findDeviceCredentials } from '../../storage/devices-store.js';
import { verifyDeviceSecret } from '../../services/auth/device-secrets.js';
import { isValidDeviceId } from '../../contracts/topics.js';

export type AuthenticationResult = { ok: true; deviceId: string } | { ok: false; detail: string };

/**
 * Checks MQTT credentials: username = device id, password = the secret issued at
 * registration. Unknown devices still cost one scrypt, so response time does not
 * tell an attacker which device ids exist.
 */
export async function authenticateDevice(
  db: Queryable,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<AuthenticationResult> {
  if (username === undefined || password === undefined) return { ok: false, detail: 'username and password are required' };
  const secret = password.toString('utf8');
  if (!isValidDeviceId(username)) {
    await verifyDeviceSecret(secret, DUMMY_HASH);
    return { ok: false, detail: 'username is not a valid device id' };
  }
  const credentials = await findDeviceCredentials(db, username);
  // Sparkplug devices behind an edge node have no secret of their own: they cost a scrypt too.
  const hasSecret = credentials?.secretHash.startsWith('scrypt$') === true;
  const matches = await verifyDeviceSecret(secret, hasSecret ? (credentials?.secretHash ?? DUMMY_HASH) : DUMMY_HASH);
  if (credentials === undefined) return { ok: false, detail: 'unknown device' };
  if (!hasSecret) return { ok: false, detail: 'device has no MQTT credentials (it is reached through its edge node)' };
  if (!matches) return { ok: false, detail: 'wrong secret' };
  if (credentials.disabled) return { ok: false, detail: 'device is disabled' };
  return { ok: true, deviceId: username };
}

// A real scrypt hash of a random secret nobody knows (same cost as real ones).
const DUMMY_HASH = 'scrypt$16384$8$1$4pbXHbHR1C8yMCsMGqB0-g$Fsyd8WtT9jqHe_rwbY1K3vj4bq6ajSQ2yE0xJrpEqkQ';
