import type { Database, Queryable } from './database.js';
import { INTERNAL_SCHEMA } from './migrations/plain-partitioning.js';
import { PARTITION_LOCK_KEY, ROLLUP_CHUNK_FACTOR } from './migrations/rollup-columns.js';
import { HOUR_MS, intervalOf, retentionMs, type StorageSettings } from './storage-settings.js';

/*
 * Plain PostgreSQL mode: the maintenance side of native partitioning and of the
 * app-kept rollups. Partitions are created ahead so writers rarely meet a missing one
 * (insert_readings creates those itself), retention drops whole partitions (nothing
 * like the cost of a DELETE), and pending rollup partials are folded into the rollups.
 */

/** How many partitions past the current one are kept ready. */
export const PARTITIONS_AHEAD = 3;

/**
 * A DROP of a partition needs an ACCESS EXCLUSIVE lock on its parent; while it waits,
 * every new insert queues behind it. Waiting at most this long keeps a long query from
 * stalling ingestion; the drop is retried on the next pass.
 */
export const PARTITION_DDL_LOCK_TIMEOUT_MS = 2_000;

type DataTable = 'readings' | 'rollup_1m' | 'rollup_1h';

/** The partitioned table holding each kind of data (the rollup views read the internal tables). */
const PARENT: Record<DataTable, string> = {
  readings: 'readings',
  rollup_1m: `${INTERNAL_SCHEMA}.rollup_1m`,
  rollup_1h: `${INTERNAL_SCHEMA}.rollup_1h`,
};

interface PartitionedTable {
  table: DataTable;
  parent: string;
  stepMs: number;
  retentionMs: number | undefined;
}

export function partitionedTables(settings: StorageSettings): PartitionedTable[] {
  const stepMs = settings.chunkIntervalHours * HOUR_MS;
  return [
    { table: 'readings', parent: PARENT.readings, stepMs, retentionMs: retentionMs(settings.rawRetentionDays) },
    { table: 'rollup_1m', parent: PARENT.rollup_1m, stepMs: stepMs * ROLLUP_CHUNK_FACTOR, retentionMs: retentionMs(settings.rollup1mRetentionDays) },
    { table: 'rollup_1h', parent: PARENT.rollup_1h, stepMs: stepMs * ROLLUP_CHUNK_FACTOR, retentionMs: retentionMs(settings.rollup1hRetentionDays) },
  ];
}

export interface PartitionInfo {
  table: DataTable;
  name: string;
  from: Date;
  to: Date;
}

/** The partitions of readings and the rollups, oldest first. */
export async function listPartitions(db: Queryable): Promise<PartitionInfo[]> {
  const result = await db.query<{ data: DataTable; name: string; from_time: Date; to_time: Date }>(
    `SELECT t.data, b.name, b.from_time, b.to_time
     FROM unnest($1::text[], $2::text[]) AS t(data, parent), ${INTERNAL_SCHEMA}.bounds(t.parent::regclass) AS b
     ORDER BY t.data, b.from_time`,
    [Object.keys(PARENT), Object.values(PARENT)],
  );
  return result.rows.map((row) => ({ table: row.data, name: row.name, from: new Date(row.from_time), to: new Date(row.to_time) }));
}

/** Creates the current partition and the next {@link PARTITIONS_AHEAD} of every table; returns the names created. */
export async function createPartitionsAhead(tx: Queryable, settings: StorageSettings): Promise<string[]> {
  await tx.query(`SET LOCAL lock_timeout = ${PARTITION_DDL_LOCK_TIMEOUT_MS}`);
  const created: string[] = [];
  for (const { parent, stepMs } of partitionedTables(settings)) {
    const result = await tx.query<{ created: string[] }>(
      `SELECT ${INTERNAL_SCHEMA}.ensure($1::regclass, ARRAY(SELECT now() + $2::interval * step FROM generate_series(0, $3::integer) AS step), $2::interval) AS created`,
      [parent, intervalOf(stepMs), PARTITIONS_AHEAD],
    );
    created.push(...(result.rows[0]?.created ?? []));
  }
  return created;
}

/**
 * Drops partitions entirely older than their table's retention, each in a transaction
 * of its own so one that cannot get its lock does not hold back the others. Returns
 * the names dropped and the ones that must wait for the next pass.
 */
export async function dropExpiredPartitions(db: Database, settings: StorageSettings): Promise<{ dropped: string[]; deferred: string[] }> {
  const dropped: string[] = [];
  const deferred: string[] = [];
  for (const { parent, retentionMs: kept } of partitionedTables(settings)) {
    if (kept === undefined) continue;
    const expired = await db.query<{ name: string }>(
      `SELECT name FROM ${INTERNAL_SCHEMA}.bounds($1::regclass) WHERE to_time <= now() - $2::interval ORDER BY from_time`,
      [parent, intervalOf(kept)],
    );
    for (const { name } of expired.rows) {
      try {
        await db.transaction(async (tx) => {
          await tx.query(`SET LOCAL lock_timeout = ${PARTITION_DDL_LOCK_TIMEOUT_MS}`);
          // The lock writers take to create partitions: a drop never interleaves with a creation.
          await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
          // Identifiers cannot be bound; `name` comes from the catalogue, and format() quotes it.
          const statement = await tx.query<{ sql: string }>(`SELECT format('DROP TABLE IF EXISTS ${INTERNAL_SCHEMA}.%I', $1::text) AS sql`, [name]);
          await tx.query(statement.rows[0]!.sql);
        });
        dropped.push(name);
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available
        deferred.push(name);
      }
    }
  }
  return { dropped, deferred };
}

/** Where writers leave rollup partials for maintenance to fold (migrations/plain-rollups.ts). */
export const PENDING_TABLE = `${INTERNAL_SCHEMA}.rollup_pending`;

/** Folds the pending rollup partials into the 1-minute and 1-hour rollups; returns how many were folded. */
export async function foldPendingRollups(db: Queryable): Promise<number> {
  const result = await db.query<{ folded: number }>(`SELECT ${INTERNAL_SCHEMA}.fold_pending() AS folded`);
  return result.rows[0]?.folded ?? 0;
}
