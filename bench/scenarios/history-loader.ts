import pg from 'pg';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { withPostgresClient } from '../../runtime/postgres-database.js';
import { hashDeviceSecret } from '../../services/auth/device-secrets.js';
import { migrate } from '../../storage/migrate.js';
import { loadMetricDictionary } from '../../storage/metric-dictionary.js';
import { INTERNAL_SCHEMA } from '../../storage/migrations/plain-partitioning.js';
import { FILL_NEWEST_SQL } from '../../storage/migrations/008-newest-reading-per-series.js';
import { ROLLUP_CHUNK_FACTOR } from '../../storage/migrations/rollup-columns.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { DAY_MS, MINUTE_MS } from '../storage-dataset.js';

/*
 * A month of city history for the query scenario, generated inside PostgreSQL.
 *
 * Going through insertReadings (~90 000 rows/s) and the fold would take well over an hour; here each partition
 * is filled by one INSERT … SELECT from generate_series, in several sessions at once,
 * into a table that has no index yet, and then given its key and attached, the way
 * storage_internal.create_partition makes partitions (CREATE TABLE … LIKE, ATTACH):
 * building a B-tree once is cheaper than growing it row by row. The rollups are
 * written as maintenance's fold would have left them (the pending table empty), from
 * the same value formula, so readings and rollups agree exactly.
 *
 * The history outlives the run: a database named after the shape, with a marker row
 * written last, is reused by the next run that asks for the same shape.
 */

export interface HistoryShape {
  devices: number;
  /** Metrics per device (environment metrics of the catalogue). */
  metrics: number;
  days: number;
}

export interface History {
  /** URL of the database holding the history. */
  url: string;
  shape: HistoryShape;
  /** Device ids are `hist-00001`…; numbers 1…devices. */
  deviceIds: string[];
  /** Catalogue keys of the metrics each device reports. */
  metricKeys: string[];
  metricNums: number[];
  /** [from, to): whole UTC days ending at the UTC midnight before the load. */
  from: Date;
  to: Date;
  readings: number;
  /** Whether an earlier run's history was reused (no load this run). */
  reused: boolean;
  /** Seconds the load took, in this run or the run that made it. */
  loadSeconds: number;
}

export interface LoadOptions {
  /** Concurrent sessions filling partitions (2 and 3 measured the same on two cores). @defaultValue 2 */
  sessions?: number;
  progress(line: string): void;
}

const MARKER_TABLE = 'bench_history_marker';

export function historyDatabaseName(shape: HistoryShape): string {
  return `bench_history_${shape.devices}d_${shape.metrics}m_${shape.days}days`;
}

export const deviceIdOf = (num: number): string => `hist-${String(num).padStart(5, '0')}`;

/**
 * The value of (device, metric, minute since the epoch): multiples of 1/8 below 500,
 * so every sum of them is exact in float8 whatever the order (rollups equal raw).
 */
const VALUE_SQL = (device: string, metric: string, minute: string) => `((${device}::bigint * 7919 + ${metric}::bigint * 104729 + ${minute} * 31) % 4001) / 8.0`;

function withDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The partition name storage_internal.create_partition gives a range starting at `fromMs`. */
function partitionName(parent: string, fromMs: number): string {
  const iso = new Date(fromMs).toISOString();
  return `${parent}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

interface MarkerRow { devices: number; metrics: number; days: number; from_time: Date; to_time: Date; readings: string; load_seconds: number; metric_keys: string[] }

async function readMarker(url: string, shape: HistoryShape): Promise<MarkerRow | undefined> {
  return withPostgresClient(url, async (client) => {
    const found = await client.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [MARKER_TABLE]);
    if (found.rows[0]?.found !== true) return undefined;
    const marker = await client.query<MarkerRow>(`SELECT * FROM ${MARKER_TABLE}`);
    const row = marker.rows[0];
    return row !== undefined && row.devices === shape.devices && row.metrics === shape.metrics && row.days === shape.days ? row : undefined;
  });
}

/** One unit of load work: a statement list run in one session. */
interface Task { label: string; rows: number; statements: string[] }

function readingsTask(fromMs: number, shape: HistoryShape, metricNums: number[]): Task {
  const name = partitionName('readings', fromMs);
  const table = `${INTERNAL_SCHEMA}.${name}`;
  const from = new Date(fromMs).toISOString();
  const to = new Date(fromMs + DAY_MS).toISOString();
  const firstMinute = fromMs / MINUTE_MS;
  return {
    label: name,
    rows: shape.devices * metricNums.length * (DAY_MS / MINUTE_MS),
    statements: [
      `CREATE TABLE ${table} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      // Series by series, so the table is laid out the way the key reads it.
      `INSERT INTO ${table} (time, device_num, metric_num, value, quality)
       SELECT to_timestamp(minute * 60), d, m, ${VALUE_SQL('d', 'm', 'minute')}, 0
       FROM generate_series(1, ${shape.devices}) AS d, unnest('{${metricNums.join(',')}}'::smallint[]) AS m,
            generate_series(${firstMinute}::bigint, ${firstMinute + DAY_MS / MINUTE_MS - 1}::bigint) AS minute`,
      `ALTER TABLE ${table} ADD CONSTRAINT ${name}_series_time UNIQUE (device_num, metric_num, time)`,
      `ALTER TABLE readings ATTACH PARTITION ${table} FOR VALUES FROM ('${from}') TO ('${to}')`,
    ],
  };
}

/** A rollup partition (ten raw partitions wide, epoch-aligned), filled for the part of it the history covers. */
function rollupTask(rollup: 'rollup_1m' | 'rollup_1h', partitionFromMs: number, fromMs: number, toMs: number, shape: HistoryShape, metricNums: number[]): Task {
  const widthMs = DAY_MS * ROLLUP_CHUNK_FACTOR;
  const name = partitionName(rollup, partitionFromMs);
  const table = `${INTERNAL_SCHEMA}.${name}`;
  const startMinute = Math.max(fromMs, partitionFromMs) / MINUTE_MS;
  const endMinute = Math.min(toMs, partitionFromMs + widthMs) / MINUTE_MS;
  const series = `generate_series(1, ${shape.devices}) AS d, unnest('{${metricNums.join(',')}}'::smallint[]) AS m`;
  const fill = rollup === 'rollup_1m'
    // One reading per minute: each 1-minute bucket is that reading.
    ? `INSERT INTO ${table}
       SELECT d, m, t, 1, v, v, v, t, v, t, v
       FROM ${series}, generate_series(${startMinute}::bigint, ${endMinute - 1}::bigint) AS minute,
            LATERAL (SELECT to_timestamp(minute * 60) AS t, ${VALUE_SQL('d', 'm', 'minute')} AS v) AS r`
    : `INSERT INTO ${table}
       SELECT d, m, to_timestamp(hour * 3600), 60, a.sum, a.min, a.max,
              to_timestamp(hour * 3600), ${VALUE_SQL('d', 'm', 'hour * 60')},
              to_timestamp(hour * 3600 + 59 * 60), ${VALUE_SQL('d', 'm', '(hour * 60 + 59)')}
       FROM ${series}, generate_series(${startMinute / 60}::bigint, ${endMinute / 60 - 1}::bigint) AS hour,
            LATERAL (SELECT sum(v) AS sum, min(v) AS min, max(v) AS max
                     FROM generate_series(hour * 60, hour * 60 + 59) AS minute, LATERAL (SELECT ${VALUE_SQL('d', 'm', 'minute')} AS v) AS r) AS a`;
  const rowsPerSeries = rollup === 'rollup_1m' ? endMinute - startMinute : (endMinute - startMinute) / 60;
  return {
    label: name,
    rows: shape.devices * metricNums.length * rowsPerSeries,
    statements: [
      `CREATE TABLE ${table} (LIKE ${INTERNAL_SCHEMA}.${rollup} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      fill,
      `ALTER TABLE ${table} ADD CONSTRAINT ${name}_series_bucket PRIMARY KEY (device_num, metric_num, bucket)`,
      `ALTER TABLE ${INTERNAL_SCHEMA}.${rollup} ATTACH PARTITION ${table} FOR VALUES FROM ('${new Date(partitionFromMs).toISOString()}') TO ('${new Date(partitionFromMs + widthMs).toISOString()}')`,
    ],
  };
}

/**
 * VACUUM (ANALYZE) of every table loaded, once no load transaction is open (a VACUUM
 * beside another session's INSERT cannot mark pages all-visible): the visibility map and
 * statistics autovacuum would have left on an app's database, so index-only scans work
 * and no autovacuum of hundreds of millions of fresh rows runs during the measurements.
 */
function vacuumTasks(tasks: readonly Task[]): Task[] {
  return tasks.map((task) => ({ label: `vacuum ${task.label}`, rows: task.rows, statements: [`VACUUM (ANALYZE) ${INTERNAL_SCHEMA}.${task.label}`] }));
}

function loadTasks(fromMs: number, toMs: number, shape: HistoryShape, metricNums: number[]): Task[] {
  const tasks: Task[] = [];
  const widthMs = DAY_MS * ROLLUP_CHUNK_FACTOR;
  for (let start = Math.floor(fromMs / widthMs) * widthMs; start < toMs; start += widthMs) {
    tasks.push(rollupTask('rollup_1m', start, fromMs, toMs, shape, metricNums), rollupTask('rollup_1h', start, fromMs, toMs, shape, metricNums));
  }
  for (let day = fromMs; day < toMs; day += DAY_MS) tasks.push(readingsTask(day, shape, metricNums));
  // Longest first, so the sessions finish together.
  return tasks.sort((a, b) => b.rows - a.rows);
}

async function runTasks(url: string, tasks: Task[], sessions: number, progress: (line: string) => void): Promise<void> {
  const queue = [...tasks];
  const total = tasks.reduce((sum, task) => sum + task.rows, 0);
  const started = performance.now();
  let done = 0;
  const stepMs = new Map<string, number>();
  const session = async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'bench-history-loader' });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`SET synchronous_commit = off`);
      await client.query(`SET maintenance_work_mem = '512MB'`);
      for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
        for (const statement of task.statements) {
          const statementStarted = performance.now();
          await client.query(statement);
          const step = statement.trim().split(/\s+/).slice(0, 2).join(' ');
          stepMs.set(step, (stepMs.get(step) ?? 0) + performance.now() - statementStarted);
        }
        done += task.rows;
        const seconds = (performance.now() - started) / 1000;
        progress(`history: ${task.label} done, ${(done / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} M rows, ${Math.round(done / seconds)} rows/s`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(sessions, tasks.length) }, session));
  progress(`history: session time by step: ${[...stepMs].map(([step, ms]) => `${step} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
}

/** The environment metrics of the catalogue, as many as asked for. */
function historyMetricKeys(count: number): string[] {
  const keys = [...METRIC_CATALOGUE.values()].filter((metric) => metric.domain === 'environment').map((metric) => metric.key).slice(0, count);
  if (keys.length < count) throw new Error(`the catalogue has ${keys.length} environment metrics, ${count} asked for`);
  return keys;
}

async function createHistory(url: string, shape: HistoryShape, options: LoadOptions): Promise<MarkerRow> {
  const toMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const fromMs = toMs - shape.days * DAY_MS;
  const db = createPgDatabase({ connectionString: url, maxConnections: 1 });
  let metricNums: number[];
  const metricKeys = historyMetricKeys(shape.metrics);
  try {
    await migrate(db);
    // The whole catalogue, as the stack numbers it at start, so the API reads the same numbers.
    const dictionary = await loadMetricDictionary(db, [...METRIC_CATALOGUE.keys()]);
    metricNums = metricKeys.map((key) => dictionary.numOf(key)!);
    // Devices never connect in this scenario; one scrypt hash is real, and enough.
    const secretHash = await hashDeviceSecret('history-device-secret');
    await db.query(
      `INSERT INTO devices (id, domain, name, secret_hash, district, latitude, longitude)
       SELECT 'hist-' || lpad(n::text, 5, '0'), 'environment', 'history station ' || n, $2,
              'district-' || (n % 16), 39.0 + (n % 100) * 0.004, 117.0 + (n / 100) * 0.004
       FROM generate_series(1, $1::integer) AS n ORDER BY n`,
      [shape.devices, secretHash],
    );
    const numbers = await db.query<{ first: number; last: number }>(`SELECT min(num) AS first, max(num) AS last FROM devices`);
    if (numbers.rows[0]?.first !== 1 || numbers.rows[0]?.last !== shape.devices) throw new Error('history devices were not numbered 1…n: the database was not fresh');
  } finally {
    await db.close();
  }
  const started = performance.now();
  const tasks = loadTasks(fromMs, toMs, shape, metricNums);
  await runTasks(url, tasks, options.sessions ?? 2, options.progress);
  await runTasks(url, vacuumTasks(tasks), options.sessions ?? 2, options.progress);
  await withPostgresClient(url, async (client) => {
    // What the writer keeps per series with each batch (migrations 006 and 008): the series and its newest reading.
    await client.query(`INSERT INTO reading_series (device_num, metric_num) SELECT d, m FROM generate_series(1, $1::integer) AS d, unnest($2::smallint[]) AS m`, [shape.devices, metricNums]);
    await client.query(FILL_NEWEST_SQL);
    for (const table of ['readings', `${INTERNAL_SCHEMA}.rollup_1m`, `${INTERNAL_SCHEMA}.rollup_1h`]) await client.query(`ANALYZE ${table}`);
  });
  const loadSeconds = (performance.now() - started) / 1000;
  const readings = shape.devices * shape.metrics * shape.days * (DAY_MS / MINUTE_MS);
  // Written last: a load cut short leaves no marker, and the next run starts over.
  await withPostgresClient(url, async (client) => {
    await client.query(`CREATE TABLE ${MARKER_TABLE} (devices integer, metrics integer, days integer, from_time timestamptz, to_time timestamptz,
      readings bigint, load_seconds float8, metric_keys text[], loaded_at timestamptz DEFAULT now())`);
    await client.query(`INSERT INTO ${MARKER_TABLE} (devices, metrics, days, from_time, to_time, readings, load_seconds, metric_keys) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [shape.devices, shape.metrics, shape.days, new Date(fromMs), new Date(toMs), readings, loadSeconds, metricKeys]);
  });
  return { ...shape, from_time: new Date(fromMs), to_time: new Date(toMs), readings: String(readings), load_seconds: loadSeconds, metric_keys: metricKeys };
}

/**
 * The history of `shape` on the server of `adminUrl`: reused when a complete one is
 * there, else (re)created. The database is left in place for the next run.
 */
export async function ensureHistory(adminUrl: string, shape: HistoryShape, options: LoadOptions): Promise<History> {
  const name = historyDatabaseName(shape);
  const url = withDatabase(adminUrl, name);
  const exists = await withPostgresClient(adminUrl, async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0);
  let marker = exists ? await readMarker(url, shape) : undefined;
  const reused = marker !== undefined;
  if (marker === undefined) {
    options.progress(`history: loading ${shape.devices} devices × ${shape.metrics} metrics × ${shape.days} days at 1-minute resolution into ${name}`);
    await withPostgresClient(adminUrl, async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
    });
    marker = await createHistory(url, shape, options);
  }
  const metricNums = await withPostgresClient(url, async (client) =>
    (await client.query<{ num: number }>('SELECT num FROM metrics WHERE key = ANY($1) ORDER BY array_position($1, key)', [marker.metric_keys])).rows.map((row) => row.num));
  return {
    url,
    shape,
    deviceIds: Array.from({ length: shape.devices }, (_, index) => deviceIdOf(index + 1)),
    metricKeys: marker.metric_keys,
    metricNums,
    from: new Date(marker.from_time),
    to: new Date(marker.to_time),
    readings: Number(marker.readings),
    reused,
    loadSeconds: marker.load_seconds,
  };
}
