/**
 * Query latency over 30 days of data, in plain PostgreSQL (a real server) and in
 * embedded PGlite with TimescaleDB: the 1-hour aggregate of one series over 30 days
 * (the rollup, and raw for comparison), the latest values, a raw page. With --explain
 * it prints the plans of the app's own statements and the measured row sizes.
 *
 *   npx tsx bench/storage-query.ts [--explain] [--quick] [--only=postgresql|pglite]
 */
import { migrate } from '../storage/migrate.js';
import { startLocalPostgres } from '../runtime/local-postgres.js';
import { AGGREGATES, queryAggregates } from '../storage/aggregates-query.js';
import type { Database, Queryable } from '../storage/database.js';
import { loadMetricDictionary } from '../storage/metric-dictionary.js';
import { createPgDatabase } from '../storage/pg-database.js';
import { createPgliteDatabase } from '../storage/pglite-database.js';
import { insertReadings, queryLatest, queryRawRange } from '../storage/readings-store.js';
import { createStorageMaintenance } from '../storage/storage-maintenance.js';
import { DEFAULT_STORAGE_SETTINGS } from '../storage/storage-settings.js';
import { batchesOf, DAY_MS, describeMachine, fleetReadings, HOUR_MS, MINUTE_MS, percentile, print } from './storage-dataset.js';
import { printRowSizes } from './storage-sizes.js';

const QUICK = process.argv.includes('--quick');
const EXPLAIN = process.argv.includes('--explain');
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const RUNS = QUICK ? 10 : 50;
const DAYS = 30;
const TO_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const FROM_MS = TO_MS - DAYS * DAY_MS;
// The series queried: device 1, metric 1, every 10 s. Around it, 10 devices × 2 metrics every minute.
const TARGET = { devices: 1, metrics: 1, periodMs: QUICK ? 60_000 : 10_000, fromMs: FROM_MS, toMs: TO_MS };
const BACKGROUND = { devices: QUICK ? 2 : 10, firstDevice: 2, metrics: 2, periodMs: MINUTE_MS, fromMs: FROM_MS, toMs: TO_MS };

async function load(db: Database): Promise<{ rows: number; seconds: number }> {
  await loadMetricDictionary(db, ['bench_1', 'bench_2']); // metric numbers 1 and 2 on a fresh database
  const started = performance.now();
  let rows = 0;
  for (const fleet of [TARGET, BACKGROUND]) {
    for (const batch of batchesOf(fleetReadings(fleet), 5000, 0)) rows += await insertReadings(db, batch);
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** Runs `query` warm-up + RUNS times; p50, p95 and max in ms. */
async function latency(query: () => Promise<unknown>): Promise<string> {
  for (let run = 0; run < 3; run += 1) await query();
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    await query();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return [50, 95].map((p) => percentile(times, p).toFixed(2)).concat(times.at(-1)!.toFixed(2)).join(' | ');
}

/** A Queryable that prints EXPLAIN ANALYZE of each statement instead of answering it: the plans of the app's exact SQL. */
function explaining(db: Queryable, label: string): Queryable {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
      print(`\n#### ${label}\n\`\`\`\n${plan.rows.map((row) => row['QUERY PLAN']).join('\n')}\n\`\`\``);
      return { rows: [] as Row[], rowCount: 0 };
    },
  };
}

const QUERIES: [string, (db: Queryable) => Promise<unknown>][] = [
  ['1 h buckets × 30 days, one series (rollup_1h)', (db) => queryAggregates(db, { deviceNum: 1, metricNums: [1], from: new Date(FROM_MS), to: new Date(TO_MS), bucketMs: HOUR_MS, aggs: AGGREGATES })],
  ['same from raw readings (origin +1 s)', (db) => queryAggregates(db, { deviceNum: 1, metricNums: [1], from: new Date(FROM_MS), to: new Date(TO_MS), bucketMs: HOUR_MS, aggs: AGGREGATES, origin: new Date(1000) })],
  ['1 min buckets × 1 day, one series (rollup_1m)', (db) => queryAggregates(db, { deviceNum: 1, metricNums: [1], from: new Date(TO_MS - DAY_MS), to: new Date(TO_MS), bucketMs: MINUTE_MS, aggs: AGGREGATES })],
  ['latest value of each metric of a device', (db) => queryLatest(db, 1)],
  ['raw range, newest 1000 of a device, all metrics', (db) => queryRawRange(db, { deviceNum: 1, metricNums: undefined, from: new Date(FROM_MS), to: new Date(TO_MS), limit: 1000, after: undefined, order: 'desc' })],
  ['raw range, 1000 from the middle of 30 days (cursor)', (db) => queryRawRange(db, { deviceNum: 1, metricNums: [1], from: new Date(FROM_MS), to: new Date(TO_MS), limit: 1000, after: { time: new Date(FROM_MS + 15 * DAY_MS), metricNum: 1 } })],
];

async function bench(name: string, db: Database): Promise<void> {
  const report = await migrate(db);
  print(`\n## ${name}\n`);
  print(await describeMachine(db));
  const maintenance = await createStorageMaintenance({ ...DEFAULT_STORAGE_SETTINGS, loop: false }, { db, capabilities: report.capabilities });
  const loaded = await load(db);
  print(`loaded ${loaded.rows} readings (${DAYS} days) in ${loaded.seconds.toFixed(1)} s: ${Math.round(loaded.rows / loaded.seconds)} rows/s through insertReadings, batches of 5000`);
  const pass = await maintenance.runNow();
  print(`first maintenance pass: ${pass.tasks.map((task) => `${task.name} ${task.ms} ms${task.changes.length > 0 ? ` (${task.changes.join('; ')})` : ''}`).join(', ')}`);
  await maintenance.close();
  await db.query('ANALYZE');
  print('\n| query | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|');
  for (const [label, query] of QUERIES) print(`| ${label} | ${await latency(() => query(db))} |`);
  if (EXPLAIN) {
    for (const [label, query] of QUERIES) await query(explaining(db, label));
    await printRowSizes(db, report.capabilities);
  }
}

if (ONLY !== 'pglite') {
  const server = await startLocalPostgres();
  try {
    const database = await server.createDatabase();
    const db = createPgDatabase({ connectionString: database.url, maxConnections: 2 });
    try {
      await bench('PostgreSQL 15 server, plain mode (partitions, rollups kept by the writer)', db);
    } finally {
      await db.close();
    }
  } finally {
    await server.close();
  }
}
if (ONLY !== 'postgresql') {
  const db = await createPgliteDatabase({ dataDir: undefined });
  try {
    await bench('PGlite with TimescaleDB, in memory (hypertable, continuous aggregates, compression)', db);
  } finally {
    await db.close();
  }
}
