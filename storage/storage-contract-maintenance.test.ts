import { describe, expect, it } from 'vitest';
import { AGGREGATES, queryAggregates } from './aggregates-query.js';
import type { Database } from './database.js';
import { storageModeOf } from './migration.js';
import { insertReadings, queryLatest, queryRawRange, type StoredReading } from './readings-store.js';
import { listStorageChunks, type StorageChunk } from './storage-chunks.js';
import { createStorageMaintenance } from './storage-maintenance.js';
import { DEFAULT_STORAGE_SETTINGS, type StorageSettings } from './storage-settings.js';
import { checkStorageJobs } from './timescale-policies.js';
import type { OwnedDatabase } from '../test/support/storage-contract-modes.js';
import {
  DAY_MS, daysAgo, expectedAggregates, HOUR_MS, MINUTE_MS, openStorage, ownDeviceNum, ownMetricNums, reading, storedOnce,
} from '../test/support/storage-fixtures.js';
import { noteTimescaleServerSkipped, STORAGE_MODES } from '../test/support/storage-modes.js';

/*
 * The storage contract, part 4: maintenance (retention, compression, partitions,
 * policies). Same tests, same expectations on every mode; where TimescaleDB and plain
 * PostgreSQL legitimately differ (compression, policies) the expectation follows the
 * mode's `timescale` flag. Each test owns a database: retention drops everything old.
 */

noteTimescaleServerSkipped();

const KEEP_EVERYTHING: Partial<StorageSettings> = { rawRetentionDays: 0, rollup1mRetentionDays: 0, rollup1hRetentionDays: 0, compressAfterDays: 0 };

async function withStorage(owned: OwnedDatabase, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } finally {
    await owned.dispose();
  }
}

/** Which of these instants each source still answers, over the whole range, in its own bucket size. */
async function instantsKept(db: Database, deviceNum: number, metricNum: number, instants: readonly number[]) {
  const [from, to] = [new Date(Math.min(...instants) - DAY_MS), new Date(Math.max(...instants) + DAY_MS)];
  const raw = await queryRawRange(db, { deviceNum, metricNums: [metricNum], from, to, limit: 1000, after: undefined });
  const inRollup = async (bucketMs: number) => {
    const answer = await queryAggregates(db, { deviceNum, metricNums: [metricNum], from, to, bucketMs, aggs: ['count'] });
    return instants.filter((instant) => answer.rows.some((row) => row.bucket.getTime() === Math.floor(instant / bucketMs) * bucketMs));
  };
  return { raw: raw.map((row) => row.time.getTime()), rollup_1m: await inRollup(MINUTE_MS), rollup_1h: await inRollup(HOUR_MS) };
}

const older = (chunks: StorageChunk[], table: string, beforeMs: number) => chunks.filter((c) => c.table === table && c.to.getTime() <= beforeMs);

describe.each(STORAGE_MODES)('storage contract, maintenance: $name', (mode) => {
  it('reports the mode: TimescaleDB server, PGlite with TimescaleDB, or plain PostgreSQL', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      const { db, report, maintenance } = await openStorage(owned);
      const expected = !mode.server ? 'pglite-timescaledb' : mode.timescale ? 'timescaledb' : 'postgresql';
      expect([storageModeOf(db.kind, report.capabilities), maintenance.mode]).toEqual([expected, expected]);
      expect((await maintenance.runNow()).mode).toBe(expected);
      await maintenance.close();
    });
  });

  it('retention drops raw readings, 1-minute and 1-hour rollups each at its own age, and keeps what is younger', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      // Kept forever at first, so every rollup holds every instant; then an operator shortens retention.
      const { db, report, maintenance } = await openStorage(owned, KEEP_EVERYTHING);
      const [device, [metric, silenced]] = [ownDeviceNum(), await ownMetricNums(db, 2)];
      const instants = [150, 100, 50, 5].map((days) => daysAgo(days) + 7 * HOUR_MS + 30_000);
      await insertReadings(db, instants.map((time, index) => reading(device, metric!, time, index)));
      // A series that went silent 100 days ago.
      await insertReadings(db, [reading(device, silenced!, instants[0]!, 7), reading(device, silenced!, instants[1]!, 8)]);
      await maintenance.runNow();
      expect(await instantsKept(db, device, metric!, instants)).toEqual({ raw: instants, rollup_1m: instants, rollup_1h: instants });
      await maintenance.close();

      // Rollup chunks are ten days wide: every instant is at least 25 days from its horizon.
      const shorter = { rawRetentionDays: 30, rollup1mRetentionDays: 75, rollup1hRetentionDays: 125 };
      const pruning = await createStorageMaintenance({ ...DEFAULT_STORAGE_SETTINGS, ...shorter, loop: false }, { db, capabilities: report.capabilities });
      await pruning.runNow();
      const [, d100, d50, d5] = instants as [number, number, number, number];
      expect(await instantsKept(db, device, metric!, instants)).toEqual({ raw: [d5], rollup_1m: [d50, d5], rollup_1h: [d100, d50, d5] });
      const chunks = await listStorageChunks(db, report.capabilities);
      expect([older(chunks, 'readings', daysAgo(31)), older(chunks, 'rollup_1m', daysAgo(76)), older(chunks, 'rollup_1h', daysAgo(126))]).toEqual([[], [], []]);
      expect(chunks.some((chunk) => chunk.table === 'readings' && chunk.from.getTime() <= d5 && d5 < chunk.to.getTime())).toBe(true);
      // The newest reading of each series outlives its raw readings: the silent sensor still shows its last value and when.
      expect((await queryLatest(db, device)).map((row) => [row.metricNum, row.time.getTime(), row.value])).toEqual([[metric, d5, 3], [silenced, d100, 8]]);
      await pruning.close();
    });
  });

  it('compresses raw chunks older than the compression age where TimescaleDB is, and late readings into them still count once', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      const { db, report, maintenance } = await openStorage(owned, { ...KEEP_EVERYTHING, compressAfterDays: 7 });
      const [device, [metric]] = [ownDeviceNum(), await ownMetricNums(db, 1)];
      const hourly = (fromMs: number, hours: number, value: number) =>
        Array.from({ length: hours }, (_, hour) => reading(device, metric!, fromMs + hour * HOUR_MS + 17_000, value + hour / 4));
      const old = hourly(daysAgo(20), 10 * 24, 0);
      const recent = hourly(daysAgo(1), 12, 100);
      await insertReadings(db, [...old, ...recent]);
      await maintenance.runNow();

      const chunks = await listStorageChunks(db, report.capabilities);
      const oldChunks = chunks.filter((c) => c.table === 'readings' && c.to.getTime() <= daysAgo(8));
      const recentChunks = chunks.filter((c) => c.table === 'readings' && c.to.getTime() > daysAgo(2));
      expect(oldChunks.length).toBeGreaterThanOrEqual(9);
      expect(oldChunks.every((chunk) => chunk.compressed)).toBe(mode.timescale);
      expect(recentChunks.map((chunk) => chunk.compressed)).toEqual(recentChunks.map(() => false));

      // Into a compressed chunk: one new reading, one redelivery with another value.
      const late: StoredReading = reading(device, metric!, daysAgo(15) + 30 * MINUTE_MS, -5);
      const redelivered = { ...old[5 * 24 + 3]!, value: 999 };
      expect(await insertReadings(db, [late, redelivered])).toBe(1);
      const day = { from: new Date(daysAgo(15)), to: new Date(daysAgo(14)) };
      const raw = await queryRawRange(db, { deviceNum: device, metricNums: [metric!], ...day, limit: 100, after: undefined });
      const stored = storedOnce([...old, ...recent, late, redelivered]);
      expect(raw.map((row) => [row.time.getTime(), row.value])).toEqual(
        stored.filter((r) => r.time >= day.from && r.time < day.to).sort((a, b) => a.time.getTime() - b.time.getTime()).map((r) => [r.time.getTime(), r.value]),
      );
      await maintenance.runNow();
      for (const bucketMs of [MINUTE_MS, HOUR_MS, DAY_MS]) {
        const answer = await queryAggregates(db, { deviceNum: device, metricNums: [metric!], ...day, bucketMs, aggs: AGGREGATES });
        expect(answer.rows).toEqual(expectedAggregates(stored, { fromMs: daysAgo(15), toMs: daysAgo(14), bucketMs }));
      }
      await maintenance.close();
    });
  });

  it('keeps partitions ready ahead of time in plain PostgreSQL, and stores readings for any instant in every mode', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      const { db, report, maintenance } = await openStorage(owned, { chunkIntervalHours: 6 });
      await maintenance.runNow();
      const ahead = (await listStorageChunks(db, report.capabilities)).filter((c) => c.table === 'readings' && c.from.getTime() > Date.now());
      // The current partition and three more: at least 12 hours ahead, wherever in its 6 hours "now" falls.
      expect(ahead.length).toBe(mode.timescale ? 0 : 3);
      const device = ownDeviceNum();
      const [metric] = await ownMetricNums(db, 1);
      const anyTime = [Date.UTC(1999, 11, 31, 23, 59, 59, 999), daysAgo(400), Date.now() + 3 * DAY_MS, Date.UTC(2100, 0, 1)];
      expect(await insertReadings(db, anyTime.map((time, index) => reading(device, metric!, time, index)))).toBe(anyTime.length);
      const all = await queryRawRange(db, { deviceNum: device, metricNums: undefined, from: new Date(0), to: new Date(Date.UTC(2200, 0)), limit: 10, after: undefined });
      expect(all.map((row) => row.time.getTime())).toEqual(anyTime);
      await maintenance.close();
    });
  });

  it('turns the settings into policies where TimescaleDB is, replaced when the settings change', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      const { db, report, maintenance } = await openStorage(owned, { rawRetentionDays: 90, rollup1mRetentionDays: 180, rollup1hRetentionDays: 0, compressAfterDays: 3 });
      const policies = async () => {
        if (!mode.timescale) return [];
        const jobs = await db.query<{ proc_name: string; relation: string; config: Record<string, unknown> }>(
          `SELECT proc_name, hypertable_name AS relation, config FROM timescaledb_information.jobs
           WHERE hypertable_schema = 'public' ORDER BY proc_name, hypertable_name`,
        );
        return jobs.rows.map((job) => `${job.proc_name} ${job.relation} ${job.config.drop_after ?? job.config.compress_after ?? job.config.start_offset}`);
      };
      const refresh = (startOffset: string) => [`policy_refresh_continuous_aggregate rollup_1h ${startOffset}`, `policy_refresh_continuous_aggregate rollup_1m ${startOffset}`];
      expect(await policies()).toEqual(
        mode.timescale ? ['policy_compression readings 3 days', ...refresh('89 days'), 'policy_retention readings 90 days', 'policy_retention rollup_1m 180 days'] : [],
      );
      await maintenance.runNow();
      // What the loop checks on a TimescaleDB server: no job failed, none overdue.
      expect(mode.timescale ? await checkStorageJobs(db) : []).toEqual([]);
      await maintenance.close();
      const changed = await createStorageMaintenance(
        { ...DEFAULT_STORAGE_SETTINGS, rawRetentionDays: 0, rollup1mRetentionDays: 0, compressAfterDays: 3, loop: false },
        { db, capabilities: report.capabilities },
      );
      expect(await policies()).toEqual(mode.timescale ? ['policy_compression readings 3 days', ...refresh('null')] : []);
      await changed.close();
    });
  });

  it('runs safely from two processes at once: both passes succeed and do the work once', async () => {
    const owned = await mode.createDatabase();
    await withStorage(owned, async () => {
      const first = await openStorage(owned);
      // A second connection pool on a server (a second worker process); embedded PGlite has one connection.
      const db2 = mode.server ? await owned.open() : first.db;
      const second = await createStorageMaintenance({ ...DEFAULT_STORAGE_SETTINGS, loop: false }, { db: db2, capabilities: first.report.capabilities });
      const device = ownDeviceNum();
      const [metric] = await ownMetricNums(first.db, 1);
      await insertReadings(first.db, [reading(device, metric!, daysAgo(3), 1), reading(device, metric!, daysAgo(3) + MINUTE_MS, 3)]);
      const reports = await Promise.all([first.maintenance.runNow(), second.runNow(), first.maintenance.runNow()]);
      expect(reports.map((r) => r.mode)).toEqual([first.maintenance.mode, second.mode, first.maintenance.mode]);
      const chunks = await listStorageChunks(first.db, first.report.capabilities);
      const keys = chunks.map((chunk) => `${chunk.table} ${chunk.from.toISOString()}`);
      expect(new Set(keys).size).toBe(keys.length);
      const answer = await queryAggregates(first.db, { deviceNum: device, metricNums: undefined, from: new Date(daysAgo(3)), to: new Date(daysAgo(2)), bucketMs: DAY_MS, aggs: ['avg', 'count'] });
      expect(answer.rows).toEqual([{ metricNum: metric, bucket: new Date(daysAgo(3)), avg: 2, count: 2 }]);
      await Promise.all([first.maintenance.close(), second.close()]);
    });
  });
});
