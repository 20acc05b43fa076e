import type { Queryable } from './database.js';
import { hasColumnstoreApi } from './migrations/timescale-rollups.js';
import { ROLLUP_CHUNK_FACTOR, ROLLUPS } from './migrations/rollup-columns.js';
import { HOUR_MS, REFRESH_RETENTION_MARGIN_DAYS, intervalOf, type StorageSettings } from './storage-settings.js';

/*
 * TimescaleDB mode: the storage settings become TimescaleDB policies (jobs). On a
 * server its job scheduler runs them; PGlite has no background workers, so the
 * maintenance loop runs the same jobs with run_job on their schedule.
 */

type PolicyKind = 'refresh' | 'compression' | 'retention';

/** One policy as the settings want it; `setting` is the interval the policy is about. */
interface PolicySpec {
  kind: PolicyKind;
  relation: 'readings' | 'rollup_1m' | 'rollup_1h';
  /** start_offset (refresh), compress_after, drop_after; `null` is an open start. */
  setting: string | null;
  /** end_offset (refresh only). */
  endOffset?: string;
  /** schedule_interval when we choose it (refresh); TimescaleDB's default otherwise. */
  schedule?: string;
}

const PROC: Record<PolicyKind, string> = {
  refresh: 'policy_refresh_continuous_aggregate',
  compression: 'policy_compression',
  retention: 'policy_retention',
};

/** Run order within one maintenance pass: materialise before compressing, drop last. */
const KIND_ORDER: readonly PolicyKind[] = ['refresh', 'compression', 'retention'];
const RELATION_ORDER = ['readings', 'rollup_1m', 'rollup_1h'];

const days = (count: number) => `${count} days`;

export function desiredPolicies(settings: StorageSettings): PolicySpec[] {
  // Refreshing a window whose raw chunks were dropped would delete those rollups, so
  // the window starts a margin inside raw retention; with raw kept forever it is
  // open, so late readings of any age reach the rollups.
  const refreshStart = settings.rawRetentionDays > 0 ? days(settings.rawRetentionDays - REFRESH_RETENTION_MARGIN_DAYS) : null;
  const specs: PolicySpec[] = ROLLUPS.map(({ table, bucket }) => ({
    kind: 'refresh',
    relation: table,
    setting: refreshStart,
    // The open bucket is left to real-time aggregation until it is complete.
    endOffset: bucket,
    schedule: intervalOf(settings.maintenanceIntervalMs),
  }));
  if (settings.compressAfterDays > 0) specs.push({ kind: 'compression', relation: 'readings', setting: days(settings.compressAfterDays) });
  const retention = { readings: settings.rawRetentionDays, rollup_1m: settings.rollup1mRetentionDays, rollup_1h: settings.rollup1hRetentionDays };
  for (const [relation, kept] of Object.entries(retention) as [PolicySpec['relation'], number][]) {
    if (kept > 0) specs.push({ kind: 'retention', relation, setting: days(kept) });
  }
  return specs;
}

export interface StorageJob {
  jobId: number;
  kind: PolicyKind;
  relation: string;
  scheduleMs: number;
}

interface JobRow {
  job_id: number;
  proc_name: string;
  relation: string;
  schedule_ms: number;
  config: Record<string, string | null>;
}

async function jobRows(db: Queryable): Promise<JobRow[]> {
  const result = await db.query<JobRow>(
    `SELECT job_id, proc_name, hypertable_name AS relation, config,
            (extract(epoch FROM schedule_interval) * 1000)::float8 AS schedule_ms
     FROM timescaledb_information.jobs
     WHERE hypertable_schema = 'public' AND hypertable_name = ANY($1::text[]) AND proc_name = ANY($2::text[])`,
    [RELATION_ORDER, Object.values(PROC)],
  );
  return result.rows;
}

const kindOf = (proc: string) => (Object.entries(PROC).find(([, name]) => name === proc)?.[0] ?? 'refresh') as PolicyKind;

/** Our policies' jobs, in the order one maintenance pass runs them. */
export async function listStorageJobs(db: Queryable): Promise<StorageJob[]> {
  const jobs = (await jobRows(db)).map((row) => ({ jobId: row.job_id, kind: kindOf(row.proc_name), relation: row.relation, scheduleMs: row.schedule_ms }));
  const rank = (job: StorageJob) => KIND_ORDER.indexOf(job.kind) * 10 + RELATION_ORDER.indexOf(job.relation);
  return jobs.sort((a, b) => rank(a) - rank(b));
}

async function sameInterval(db: Queryable, a: string | null | undefined, b: string | null | undefined): Promise<boolean> {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  const result = await db.query<{ same: boolean }>('SELECT $1::interval = $2::interval AS same', [a, b]);
  return result.rows[0]?.same === true;
}

/**
 * TimescaleDB 2.19 splits a refresh into batches of `buckets_per_batch` buckets, one
 * transaction each, by default; over a long window of 1-minute buckets that is
 * thousands of transactions for little data (71 s instead of 0.08 s for ten days in
 * PGlite). 0 refreshes the window in one go, as earlier versions did.
 */
async function hasRefreshBatching(db: Queryable): Promise<boolean> {
  const result = await db.query<{ found: boolean }>(
    `SELECT pg_get_function_arguments('add_continuous_aggregate_policy'::regproc) LIKE '%buckets_per_batch%' AS found`,
  );
  return result.rows[0]?.found === true;
}

async function matches(db: Queryable, row: JobRow, spec: PolicySpec, batching: boolean): Promise<boolean> {
  const key = { refresh: 'start_offset', compression: 'compress_after', retention: 'drop_after' }[spec.kind];
  if (!(await sameInterval(db, row.config[key], spec.setting))) return false;
  if (spec.kind !== 'refresh') return true;
  if (batching && (row.config.buckets_per_batch as unknown) !== 0) return false;
  return (await sameInterval(db, row.config.end_offset, spec.endOffset)) && (await sameInterval(db, `${row.schedule_ms} milliseconds`, spec.schedule));
}

async function removePolicy(tx: Queryable, kind: PolicyKind, relation: string, columnstore: boolean): Promise<void> {
  if (kind === 'refresh') await tx.query('SELECT remove_continuous_aggregate_policy($1, if_exists => true)', [relation]);
  else if (kind === 'retention') await tx.query('SELECT remove_retention_policy($1, if_exists => true)', [relation]);
  else if (columnstore) await tx.query('CALL remove_columnstore_policy($1, if_exists => true)', [relation]);
  else await tx.query('SELECT remove_compression_policy($1, if_exists => true)', [relation]);
}

async function addPolicy(tx: Queryable, spec: PolicySpec, columnstore: boolean, batching: boolean): Promise<void> {
  if (spec.kind === 'refresh') {
    await tx.query(
      `SELECT add_continuous_aggregate_policy($1, start_offset => $2::interval, end_offset => $3::interval,
         schedule_interval => $4::interval${batching ? ', buckets_per_batch => 0' : ''})`,
      [spec.relation, spec.setting, spec.endOffset, spec.schedule],
    );
  } else if (spec.kind === 'retention') {
    await tx.query('SELECT add_retention_policy($1, drop_after => $2::interval)', [spec.relation, spec.setting]);
  } else if (columnstore) {
    await tx.query('CALL add_columnstore_policy($1, after => $2::interval)', [spec.relation, spec.setting]);
  } else {
    await tx.query('SELECT add_compression_policy($1, compress_after => $2::interval)', [spec.relation, spec.setting]);
  }
}

/**
 * Makes the policies match the settings: missing ones added, changed ones replaced,
 * ones the settings no longer want (say, retention set to keep) removed; a policy
 * that already matches keeps its job and history. Also sets the chunk widths, which
 * apply to chunks created from now on. Returns what changed, for the log.
 */
export async function reconcilePolicies(tx: Queryable, settings: StorageSettings, timescaleVersion: string | undefined): Promise<string[]> {
  const columnstore = hasColumnstoreApi(timescaleVersion);
  const chunkMs = settings.chunkIntervalHours * HOUR_MS;
  await tx.query('SELECT set_chunk_time_interval($1, $2::interval)', ['readings', intervalOf(chunkMs)]);
  for (const { table } of ROLLUPS) await tx.query('SELECT set_chunk_time_interval($1, $2::interval)', [table, intervalOf(chunkMs * ROLLUP_CHUNK_FACTOR)]);

  const batching = await hasRefreshBatching(tx);
  const existing = await jobRows(tx);
  const wanted = desiredPolicies(settings);
  const changes: string[] = [];
  for (const row of existing) {
    const kind = kindOf(row.proc_name);
    const spec = wanted.find((candidate) => candidate.kind === kind && candidate.relation === row.relation);
    if (spec !== undefined && (await matches(tx, row, spec, batching))) continue;
    await removePolicy(tx, kind, row.relation, columnstore);
    if (spec === undefined) changes.push(`removed ${kind} policy on ${row.relation}`);
  }
  const kept = await jobRows(tx);
  for (const spec of wanted) {
    if (kept.some((row) => kindOf(row.proc_name) === spec.kind && row.relation === spec.relation)) continue;
    await addPolicy(tx, spec, columnstore, batching);
    changes.push(`set ${spec.kind} policy on ${spec.relation} (${spec.setting ?? 'all history'})`);
  }
  return changes;
}

/** Runs one policy job in the foreground, as the scheduler would. Not inside a transaction: refreshes commit as they go. */
export async function runStorageJob(db: Queryable, jobId: number): Promise<void> {
  await db.query('CALL run_job($1)', [jobId]);
}

export interface JobHealth {
  relation: string;
  kind: string;
  problem: string;
}

/**
 * Checks the server's scheduler does the work: a failed last run, or a job overdue by
 * more than two of its intervals (the scheduler is not running: is TimescaleDB in
 * shared_preload_libraries, timescaledb.max_background_workers above 0?).
 */
export async function checkStorageJobs(db: Queryable): Promise<JobHealth[]> {
  const result = await db.query<{ relation: string; proc_name: string; last_run_status: string | null; overdue: boolean }>(
    `SELECT j.hypertable_name AS relation, j.proc_name, s.last_run_status,
            coalesce(s.next_start < now() - 2 * j.schedule_interval, false) AS overdue
     FROM timescaledb_information.jobs j
     LEFT JOIN timescaledb_information.job_stats s USING (job_id)
     WHERE j.hypertable_schema = 'public' AND j.hypertable_name = ANY($1::text[]) AND j.proc_name = ANY($2::text[])`,
    [RELATION_ORDER, Object.values(PROC)],
  );
  const problems: JobHealth[] = [];
  for (const row of result.rows) {
    const kind = kindOf(row.proc_name);
    if (row.last_run_status === 'Failed') problems.push({ relation: row.relation, kind, problem: 'last run failed (see timescaledb_information.job_errors)' });
    if (row.overdue) problems.push({ relation: row.relation, kind, problem: 'overdue: is the TimescaleDB job scheduler running?' });
  }
  return problems;
}
