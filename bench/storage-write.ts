/**
 * Batch-write throughput on a real PostgreSQL server (plain mode: partitioned readings):
 * parameter arrays (`unnest`) against COPY into a staging table, both raw-only, and
 * the app's own `insertReadings` (unnest through `insert_readings`, which also records
 * the rollup partials that maintenance folds), sequential and with four concurrent
 * writers; the fold that follows is timed too.
 *
 *   npx tsx bench/storage-write.ts            (about 3 minutes on 2 cores)
 *   npx tsx bench/storage-write.ts --quick    (a smoke run)
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startLocalPostgres, type LocalPostgres } from '../runtime/local-postgres.js';
import { migrate } from '../storage/migrate.js';
import { createPgDatabase } from '../storage/pg-database.js';
import { insertReadings, type StoredReading } from '../storage/readings-store.js';
import { batchesOf, DAY_MS, describeMachine, fleetReadings, print, type FleetOptions } from './storage-dataset.js';

const QUICK = process.argv.includes('--quick');
const ROWS_PER_RUN = QUICK ? 20_000 : 200_000;
const BATCH_SIZES = QUICK ? [2000] : [500, 2000, 10_000];
const DUPLICATE_SHARE = 0.1;
// 1000 devices × 5 metrics every 10 s: 500 readings per second of device time.
const FLEET: FleetOptions = { devices: 1000, metrics: 5, periodMs: 10_000, fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 1) + 4 * DAY_MS };

type Writer = (client: pg.Client, batch: readonly StoredReading[]) => Promise<number>;

const BATCH_ROWS = `
  SELECT r.time, r.device_num, r.metric_num, r.value, r.quality, r.source_quality
  FROM unnest($1::timestamptz[], $2::integer[], $3::smallint[], $4::float8[], $5::smallint[], $6::integer[]) WITH ORDINALITY
    AS r(time, device_num, metric_num, value, quality, source_quality, ord)
  ORDER BY r.device_num, r.metric_num, r.time, r.ord`;

function columns(batch: readonly StoredReading[]) {
  return [
    batch.map((r) => r.time.toISOString()), batch.map((r) => r.deviceNum), batch.map((r) => r.metricNum),
    batch.map((r) => String(r.value)), batch.map((r) => r.qualityCode), batch.map((r) => r.sourceQuality ?? null),
  ];
}

const WRITERS: Record<string, Writer> = {
  'unnest, raw only': async (client, batch) => {
    const result = await client.query(`INSERT INTO readings ${BATCH_ROWS} ON CONFLICT DO NOTHING`, columns(batch));
    return result.rowCount ?? 0;
  },
  // COPY cannot skip conflicting rows, so it fills a session staging table that one
  // INSERT … SELECT … ON CONFLICT DO NOTHING then moves, in one transaction.
  'COPY + staging, raw only': async (client, batch) => {
    await client.query('BEGIN');
    try {
      const text = batch.map((r) => `${r.time.toISOString()}\t${r.deviceNum}\t${r.metricNum}\t${r.value}\t${r.qualityCode}\t${r.sourceQuality ?? '\\N'}\n`).join('');
      await pipeline(Readable.from([text]), client.query(copyFrom('COPY staging FROM STDIN')));
      const result = await client.query(
        `INSERT INTO readings SELECT * FROM staging ORDER BY device_num, metric_num, time ON CONFLICT DO NOTHING`,
      );
      await client.query('COMMIT');
      return result.rowCount ?? 0;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  },
  'insertReadings (unnest + rollup partials)': async (client, batch) => {
    const c = columns(batch);
    const result = await client.query<{ n: number }>('SELECT insert_readings($1, $2, $3, $4, $5, $6) AS n', c);
    return result.rows[0]?.n ?? 0;
  },
};

async function freshDatabase(server: LocalPostgres): Promise<{ url: string; drop(): Promise<void> }> {
  const database = await server.createDatabase();
  const db = createPgDatabase({ connectionString: database.url, maxConnections: 1 });
  await migrate(db);
  // Partitions for the whole run up front, so no method pays for creating them.
  const days = Array.from({ length: 6 }, (_, day) => new Date(FLEET.fromMs + day * DAY_MS).toISOString());
  for (const [parent, step] of [['readings', '1 day'], ['storage_internal.rollup_1m', '10 days'], ['storage_internal.rollup_1h', '10 days']]) {
    await db.query('SELECT storage_internal.ensure($1::regclass, $2::timestamptz[], $3::interval)', [parent, days, step]);
  }
  await db.close();
  return database;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TEMP TABLE staging (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
  return client;
}

/** Offered and new rows per second of `writer` over ROWS_PER_RUN readings, on `connections` connections. */
async function measure(server: LocalPostgres, writer: Writer, batchSize: number, connections: number) {
  const database = await freshDatabase(server);
  const clients = await Promise.all(Array.from({ length: connections }, () => connect(database.url)));
  try {
    const stream = (function* () {
      let count = 0;
      for (const reading of fleetReadings(FLEET)) {
        if (count++ >= ROWS_PER_RUN) return;
        yield reading;
      }
    })();
    const batches = [...batchesOf(stream, batchSize, DUPLICATE_SHARE)];
    const offered = batches.reduce((total, batch) => total + batch.length, 0);
    let next = 0;
    let inserted = 0;
    const started = performance.now();
    // Each connection takes the next batch when done: batches of neighbouring time, as concurrent jobs are.
    await Promise.all(clients.map(async (client) => {
      while (next < batches.length) {
        const stored = await writer(client, batches[next++]!);
        inserted += stored;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    // The rollup partials the writer left are folded by maintenance, off the write path; timed here.
    const foldStarted = performance.now();
    const folded = await clients[0]!.query<{ n: number }>('SELECT storage_internal.fold_pending() AS n');
    const fold = folded.rows[0]!.n > 0 ? `${folded.rows[0]!.n} partials in ${Math.round(performance.now() - foldStarted)} ms` : '';
    return { offeredPerS: Math.round(offered / seconds), newPerS: Math.round(inserted / seconds), inserted, fold };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await database.drop();
  }
}

const server = await startLocalPostgres();
try {
  const probe = createPgDatabase({ connectionString: server.url, maxConnections: 1 });
  print(await describeMachine(probe));
  await probe.close();
  print(`rows per run: ${ROWS_PER_RUN} new + ${DUPLICATE_SHARE * 100}% redelivered duplicates; fleet ${FLEET.devices} devices × ${FLEET.metrics} metrics; server with fsync off (runtime/local-postgres.ts)`);
  print();
  print('| writer | batch | connections | offered rows/s | new rows/s | fold afterwards (maintenance) |');
  print('|---|---:|---:|---:|---:|---|');
  for (const batchSize of BATCH_SIZES) {
    for (const [name, writer] of Object.entries(WRITERS)) {
      const result = await measure(server, writer, batchSize, 1);
      if (result.inserted !== ROWS_PER_RUN) throw new Error(`${name} stored ${result.inserted} rows, expected ${ROWS_PER_RUN}`);
      print(`| ${name} | ${batchSize} | 1 | ${result.offeredPerS} | ${result.newPerS} | ${result.fold} |`);
    }
  }
  for (const name of ['unnest, raw only', 'insertReadings (unnest + rollup partials)']) {
    const result = await measure(server, WRITERS[name]!, 2000, 4);
    if (result.inserted !== ROWS_PER_RUN) throw new Error(`${name} stored ${result.inserted} rows, expected ${ROWS_PER_RUN}`);
    print(`| ${name} | 2000 | 4 | ${result.offeredPerS} | ${result.newPerS} | ${result.fold} |`);
  }
  // The same call the ingest worker makes, through the app's pool, as a check the figures above are the app's.
  const database = await freshDatabase(server);
  const db = createPgDatabase({ connectionString: database.url, maxConnections: 1 });
  const sample = [...batchesOf(fleetReadings({ ...FLEET, devices: 10 }), 500, DUPLICATE_SHARE)][0]!;
  print();
  print(`check: insertReadings stored ${await insertReadings(db, sample)} of ${sample.length} offered (${sample.length - 500} duplicates)`);
  await db.close();
  await database.drop();
} finally {
  await server.close();
}
