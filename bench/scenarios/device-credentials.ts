import { withPostgresClient } from '../../runtime/postgres-database.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import { migrate } from '../../storage/migrate.js';
import { createPgDatabase } from '../../storage/pg-database.js';

/*
 * Devices with credentials of their own, each secret hashed with the platform's scrypt
 * at its production cost, so every CONNECT of the connections scenario pays the real
 * verification. Hashing is the slow part (~50 ms of CPU each, on purpose): the hashes
 * run on libuv's thread pool side by side, and the result is kept in a database named
 * after the fleet size, with the secrets in a table of the bench's own, for the next
 * run on the same server to reuse.
 */

export interface DeviceCredential {
  id: string;
  secret: string;
}

export interface CredentialFleet {
  /** URL of the database holding the devices. */
  url: string;
  devices: DeviceCredential[];
  reused: boolean;
  /** Seconds the hashing took, in this run or the run that made them. */
  hashSeconds: number;
}

const SECRETS_TABLE = 'bench_device_secrets';
/** Hashes in flight: libuv's default thread pool has four threads. */
const HASHES_AT_ONCE = 4;

export const connectionDeviceId = (index: number): string => `conn-${String(index + 1).padStart(5, '0')}`;

async function readFleet(url: string, count: number): Promise<{ devices: DeviceCredential[]; hashSeconds: number } | undefined> {
  return withPostgresClient(url, async (client) => {
    const found = await client.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [SECRETS_TABLE]);
    if (found.rows[0]?.found !== true) return undefined;
    const rows = await client.query<DeviceCredential & { hash_seconds: number }>(
      `SELECT s.id, s.secret, s.hash_seconds FROM ${SECRETS_TABLE} s JOIN devices d ON d.id = s.id ORDER BY s.id`);
    return rows.rows.length === count ? { devices: rows.rows.map(({ id, secret }) => ({ id, secret })), hashSeconds: rows.rows[0]?.hash_seconds ?? 0 } : undefined;
  });
}

async function createFleet(url: string, count: number, progress: (line: string) => void): Promise<{ devices: DeviceCredential[]; hashSeconds: number }> {
  const devices = Array.from({ length: count }, (_, index) => ({ id: connectionDeviceId(index), secret: generateDeviceSecret() }));
  const hashes = new Array<string>(count);
  const started = performance.now();
  let next = 0;
  let lastReport = started;
  const hashing = async () => {
    for (let index = next++; index < count; index = next++) {
      hashes[index] = await hashDeviceSecret(devices[index]!.secret);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(`credentials: ${next} of ${count} secrets hashed (scrypt), ${Math.round(next / ((lastReport - started) / 1000))}/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: HASHES_AT_ONCE }, hashing));
  const hashSeconds = (performance.now() - started) / 1000;
  progress(`credentials: ${count} secrets hashed in ${hashSeconds.toFixed(1)} s (${Math.round(count / hashSeconds)}/s)`);
  const db = createPgDatabase({ connectionString: url, maxConnections: 1 });
  try {
    await migrate(db);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO devices (id, domain, name, secret_hash) SELECT id, 'environment', 'connection test ' || id, hash FROM unnest($1::text[], $2::text[]) AS t(id, hash)`,
        [devices.map((device) => device.id), hashes],
      );
      // The bench's own table: the platform keeps only hashes; the generator needs the secrets.
      await tx.query(`CREATE TABLE ${SECRETS_TABLE} (id text PRIMARY KEY, secret text NOT NULL, hash_seconds float8 NOT NULL)`);
      await tx.query(`INSERT INTO ${SECRETS_TABLE} SELECT id, secret, $3 FROM unnest($1::text[], $2::text[]) AS t(id, secret)`,
        [devices.map((device) => device.id), devices.map((device) => device.secret), hashSeconds]);
    });
  } finally {
    await db.close();
  }
  return { devices, hashSeconds };
}

/** `count` devices with their own secrets on the server of `adminUrl`: reused when there, else made. */
export async function ensureDeviceCredentials(adminUrl: string, count: number, progress: (line: string) => void): Promise<CredentialFleet> {
  const name = `bench_connections_${count}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const exists = await withPostgresClient(adminUrl, async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0);
  const kept = exists ? await readFleet(url.toString(), count) : undefined;
  if (kept !== undefined) return { url: url.toString(), ...kept, reused: true };
  await withPostgresClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  });
  return { url: url.toString(), ...(await createFleet(url.toString(), count, progress)), reused: false };
}
