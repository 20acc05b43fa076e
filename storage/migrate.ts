import type { Database, Queryable } from './database.js';
import type { Migration, StorageCapabilities } from './migration.js';
import { initialSchema } from './migrations/001-initial-schema.js';
import { rollupsAndRetention } from './migrations/002-rollups-and-retention.js';
import { deviceProfilesAndSparkplug } from './migrations/003-device-profiles-and-sparkplug.js';
import { deviceLocation } from './migrations/004-device-location.js';
import { alerts } from './migrations/005-alerts.js';
import { readingSeries } from './migrations/006-reading-series.js';
import { coveringRollupIndex } from './migrations/007-covering-rollup-index.js';
import { newestReadingPerSeries } from './migrations/008-newest-reading-per-series.js';

export const MIGRATIONS: readonly Migration[] = [initialSchema, rollupsAndRetention, deviceProfilesAndSparkplug, deviceLocation, alerts, readingSeries, coveringRollupIndex, newestReadingPerSeries];

// Any constant works; it only has to be the same in every process of the stack.
const MIGRATION_LOCK_KEY = 7_311_202;

export interface MigrationReport {
  capabilities: StorageCapabilities;
  applied: number[];
}

/** The installed TimescaleDB version, when it is the Timescale-licensed build that has continuous aggregates. */
async function usableTimescale(tx: Queryable): Promise<string | undefined> {
  const installed = await tx.query<{ extversion: string; license: string | null }>(
    `SELECT extversion, current_setting('timescaledb.license', true) AS license FROM pg_extension WHERE extname = 'timescaledb'`,
  );
  const row = installed.rows[0];
  return row === undefined || row.license === 'apache' ? undefined : row.extversion;
}

/**
 * Installs TimescaleDB where the server offers it. Continuous aggregates and compression
 * need the Timescale-licensed build: the Apache-only build some clouds ship would
 * refuse them, so such a server is used as plain PostgreSQL instead.
 */
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
      if ((await usableTimescale(tx)) === undefined) throw new Error('Apache-only TimescaleDB: no continuous aggregates');
      await tx.query('RELEASE SAVEPOINT timescale');
    } catch {
      await tx.query('ROLLBACK TO SAVEPOINT timescale');
    }
  }
  const version = await usableTimescale(tx);
  return { timescale: version !== undefined, timescaleVersion: version };
}

/**
 * The mode is chosen once, when the schema is first created, and then read from the
 * schema: installing TimescaleDB later must not make a plain-PostgreSQL database look
 * like a hypertable one (its tables are partitioned, not hypertables).
 */
async function detectCapabilities(tx: Queryable): Promise<StorageCapabilities> {
  const existing = await tx.query<{ found: boolean }>(`SELECT to_regclass('public.readings') IS NOT NULL AS found`);
  if (!existing.rows[0]?.found) return installTimescale(tx);
  const version = await usableTimescale(tx);
  if (version === undefined) return { timescale: false, timescaleVersion: undefined };
  const hypertable = await tx.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                    WHERE hypertable_schema = 'public' AND hypertable_name = 'readings') AS found`,
  );
  return hypertable.rows[0]?.found ? { timescale: true, timescaleVersion: version } : { timescale: false, timescaleVersion: undefined };
}

/**
 * Applies the pending migrations in one transaction under an advisory lock, so two
 * processes starting together cannot race, and a failing migration leaves the
 * schema as it was.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const capabilities = await detectCapabilities(tx);
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
