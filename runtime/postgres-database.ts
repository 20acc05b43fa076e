import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created by {@link createPostgresDatabase}. */
export interface PostgresDatabase {
  /** Connection URL of the new database (the admin URL with another path). */
  url: string;
  name: string;
  /** Drops it, closing any sessions still connected. Idempotent. */
  drop(): Promise<void>;
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Runs `work` on a short-lived connection to `url`, always closing it. */
export async function withPostgresClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
  connectionTimeoutMs = 5_000,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectionTimeoutMs });
  // A server going away mid-query rejects the query; without a listener the
  // same failure would also be emitted as an uncaught 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates a database on the server `adminUrl` points at (any database there
 * the user may connect to) and returns its URL. Safe to call concurrently
 * from many processes: each call gets its own random name unless given one.
 * @param name - defaults to `test_` and 16 random hex digits
 */
export async function createPostgresDatabase(
  adminUrl: string,
  name = `test_${randomBytes(8).toString('hex')}`,
): Promise<PostgresDatabase> {
  // Identifiers cannot be bound as parameters, so the name is checked instead
  // of escaped: 63 bytes is PostgreSQL's NAMEDATALEN - 1.
  if (!DATABASE_NAME.test(name)) {
    throw new Error(
      `database name "${name}" is not allowed: use 1 to 63 lower-case letters, digits and ` +
        'underscores, not starting with a digit',
    );
  }
  await withPostgresClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () =>
      (dropping ??= withPostgresClient(adminUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      })),
  };
}
