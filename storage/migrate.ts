import type { Database, Queryable } from './database.js';
import type { Migration, StorageCapabilities } from './migration.js';
import { initialSchema } from './migrations/001-initial-schema.js';

export const MIGRATIONS: readonly Migration[] = [initialSchema];

// Any constant works; it only has to be the same in every process of the stack.
const MIGRATION_LOCK_KEY = 7_311_202;

export interface MigrationReport {
  capabilities: StorageCapabilities;
  applied: number[];
}

async function installTimescale(tx: Queryable): Promise<StorageCapabilities> {
  const available = await tx.query<{ default_version: string }>(
    `SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'`,
  );
  if (available.rows.length > 0) {
    // A server that ships the extension but does not preload it refuses CREATE
    // EXTENSION; a savepoint keeps that refusal from aborting the migration.
    await tx.query('SAVEPOINT timescale');
    try {
      await tx.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      await tx.query('RELEASE SAVEPOINT timescale');
    } catch {
      await tx.query('ROLLBACK TO SAVEPOINT timescale');
    }
  }
  const installed = await tx.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
  const version = installed.rows[0]?.extversion;
  return { timescale: version !== undefined, timescaleVersion: version };
}

/**
 * Applies the pending migrations in one transaction under an advisory lock, so two
 * processes starting together cannot race, and a failing migration leaves the
 * schema as it was.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const capabilities = await installTimescale(tx);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const appliedBefore = new Set(done.rows.map((row) => row.version));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (appliedBefore.has(migration.version)) continue;
      await migration.up(tx, capabilities);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return { capabilities, applied };
  });
}
