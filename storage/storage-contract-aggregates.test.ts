import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATES, queryAggregates, type AggregateSource } from './aggregates-query.js';
import type { Database } from './database.js';
import { insertReadings, type StoredReading } from './readings-store.js';
import type { StorageMaintenance } from './storage-maintenance.js';
import type { OwnedDatabase } from '../test/support/storage-contract-modes.js';
import {
  DAY_MS, daysAgo, expectedAggregates, HOUR_MS, irregularSeries, MINUTE_MS, openStorage, ownDeviceNum, ownMetricNums, reading, storedOnce,
} from '../test/support/storage-fixtures.js';
import { noteTimescaleServerSkipped, STORAGE_MODES } from '../test/support/storage-modes.js';

/*
 * The storage contract, part 3: bucketed aggregates. Same tests, same expectations on
 * every database mode: each answer equals the one computed here from the readings
 * written, whether the store read raw data, the 1-minute or the 1-hour rollup.
 */

noteTimescaleServerSkipped();

// Twenty days back: old enough that a maintenance pass compresses it (TimescaleDB modes),
// so the answers also come from compressed chunks.
const T0 = daysAgo(20);

const BUCKETS: [label: string, bucketMs: number, source: AggregateSource][] = [
  ['1 min', MINUTE_MS, 'rollup_1m'],
  ['5 min', 5 * MINUTE_MS, 'rollup_1m'],
  ['1 h', HOUR_MS, 'rollup_1h'],
  ['1 day', DAY_MS, 'rollup_1h'],
  ['7 min', 7 * MINUTE_MS, 'rollup_1m'],
  ['2.5 h', 150 * MINUTE_MS, 'rollup_1m'],
  ['90 s', 90_000, 'raw'],
  ['45 s', 45_000, 'raw'],
];

describe.each(STORAGE_MODES)('storage contract, aggregates: $name', (mode) => {
  let owned: OwnedDatabase | undefined;
  let db: Database;
  let maintenance: StorageMaintenance;

  beforeAll(async () => {
    owned = await mode.createDatabase();
    ({ db, maintenance } = await openStorage(owned));
  });
  afterAll(async () => {
    await maintenance?.close();
    await owned?.dispose();
  });

  /** Writes in batches as the ingest worker would, then lets maintenance bring the rollups up to date. */
  async function write(readings: readonly StoredReading[]): Promise<void> {
    for (let start = 0; start < readings.length; start += 2000) await insertReadings(db, readings.slice(start, start + 2000));
    await maintenance.runNow();
  }

  const ask = (deviceNum: number, metricNums: number[] | undefined, fromMs: number, toMs: number, bucketMs: number, originMs?: number) =>
    queryAggregates(db, {
      deviceNum, metricNums, from: new Date(fromMs), to: new Date(toMs), bucketMs, aggs: AGGREGATES,
      ...(originMs === undefined ? {} : { origin: new Date(originMs) }),
    });

  describe('queryAggregates', () => {
    let device: number;
    let metrics: number[];
    let stored: StoredReading[];

    beforeAll(async () => {
      device = ownDeviceNum();
      metrics = await ownMetricNums(db, 2);
      // Two series over two and a half days, one dense (≈ every 40 s) and one sparse (≈ every 7 min).
      stored = [
        ...irregularSeries(1, device, metrics[0]!, T0, T0 + 2.5 * DAY_MS, 40_000),
        ...irregularSeries(2, device, metrics[1]!, T0, T0 + 2.5 * DAY_MS, 7 * MINUTE_MS),
      ];
      await write(stored);
    });

    it.each(BUCKETS)('answers every aggregate in %s buckets from %s data, as computed from the readings', async (_label, bucketMs, source) => {
      // Neither end on a bucket boundary: the answer covers the whole buckets they fall in.
      const [fromMs, toMs] = [T0 + 5 * HOUR_MS + 12_345, T0 + 2 * DAY_MS + 3 * HOUR_MS + 1];
      const answer = await ask(device, undefined, fromMs, toMs, bucketMs);
      const expected = expectedAggregates(stored, { fromMs, toMs, bucketMs });
      expect(answer.source).toBe(source);
      expect([answer.from.getTime() % bucketMs, answer.to.getTime() % bucketMs]).toEqual([0, 0]);
      expect(answer.from.getTime()).toBeLessThanOrEqual(fromMs);
      expect(answer.to.getTime()).toBeGreaterThanOrEqual(toMs);
      expect(answer.rows.length).toBeGreaterThan(1);
      expect(answer.rows).toEqual(expected);
    });

    it('answers only the aggregates and metrics asked for', async () => {
      const answer = await queryAggregates(db, {
        deviceNum: device, metricNums: [metrics[1]!], from: new Date(T0), to: new Date(T0 + DAY_MS), bucketMs: HOUR_MS, aggs: ['max', 'count'],
      });
      const expected = expectedAggregates(stored.filter((r) => r.metricNum === metrics[1]), { fromMs: T0, toMs: T0 + DAY_MS, bucketMs: HOUR_MS });
      expect(answer.rows).toEqual(expected.map(({ metricNum, bucket, max, count }) => ({ metricNum, bucket, max, count })));
      expect(await ask(device, [], T0, T0 + DAY_MS, HOUR_MS)).toMatchObject({ rows: [] });
      expect(await ask(ownDeviceNum(), undefined, T0, T0 + DAY_MS, HOUR_MS)).toMatchObject({ rows: [] });
    });

    it('aligns day buckets to a time-zone origin (UTC+8 midnight) and still answers from the hourly rollup', async () => {
      const origin = T0 - 8 * HOUR_MS;
      const answer = await ask(device, undefined, T0, T0 + 2 * DAY_MS, DAY_MS, origin);
      expect(answer.source).toBe('rollup_1h');
      expect(answer.rows.map((row) => row.bucket.getTime() - origin).every((offset) => offset % DAY_MS === 0)).toBe(true);
      expect(answer.rows).toEqual(expectedAggregates(stored, { fromMs: T0, toMs: T0 + 2 * DAY_MS, bucketMs: DAY_MS, originMs: origin }));
      // An origin off the hour grid (UTC+5:30) is answered from the minute rollup, one off the minute grid from raw readings.
      for (const [originMs, source] of [[T0 - 5.5 * HOUR_MS, 'rollup_1m'], [T0 + 30_000, 'raw']] as const) {
        const odd = await ask(device, undefined, T0, T0 + DAY_MS, DAY_MS, originMs);
        expect(odd.source).toBe(source);
        expect(odd.rows).toEqual(expectedAggregates(stored, { fromMs: T0, toMs: T0 + DAY_MS, bucketMs: DAY_MS, originMs }));
      }
    });
  });

  describe('rollups', () => {
    it('average Σsum / Σcount over merged buckets, never an average of averages', async () => {
      const [device, [metric]] = [ownDeviceNum(), await ownMetricNums(db, 1)];
      // One reading of 0 in the first hour, three of 4 in the second: the day's mean is 3, the mean of hourly means 2.
      await write([reading(device, metric!, T0 + 10 * MINUTE_MS, 0), ...[1, 2, 3].map((m) => reading(device, metric!, T0 + HOUR_MS + m * MINUTE_MS, 4))]);
      const day = await ask(device, undefined, T0, T0 + DAY_MS, DAY_MS);
      expect(day.source).toBe('rollup_1h');
      expect(day.rows).toEqual([{ metricNum: metric, bucket: new Date(T0), avg: 3, min: 0, max: 4, count: 4, sum: 12, first: 0, last: 4 }]);
    });

    it('stay exact after late and duplicate readings, in every bucket size', async () => {
      const [device, [metric]] = [ownDeviceNum(), await ownMetricNums(db, 1)];
      const first = irregularSeries(3, device, metric!, T0 + DAY_MS, T0 + DAY_MS + 6 * HOUR_MS, 2 * MINUTE_MS);
      await write(first);
      const late = [
        // Before every stored reading of its minute and hour: becomes their first, and a new minimum.
        reading(device, metric!, first[10]!.time.getTime() - 1, -1000),
        // After all: a new last value and maximum, an hour after the series ended.
        reading(device, metric!, T0 + DAY_MS + 6 * HOUR_MS + 30 * MINUTE_MS, 1000),
        // Into the middle of a minute already rolled up.
        reading(device, metric!, first[50]!.time.getTime() + 1, 0.25),
      ];
      // Redelivered readings with other values must change nothing, also within the batch.
      const duplicates = [first[0]!, first[20]!, late[0]!].map((r) => ({ ...r, value: r.value + 7 }));
      const deliveries = [...first, ...late, ...duplicates, late[2]!];
      expect(await insertReadings(db, [...late, ...duplicates, late[2]!])).toBe(late.length);
      await maintenance.runNow();
      const stored = storedOnce(deliveries);
      for (const [, bucketMs] of BUCKETS) {
        const answer = await ask(device, [metric!], T0 + DAY_MS, T0 + 2 * DAY_MS, bucketMs);
        expect(answer.rows, `${bucketMs} ms buckets from ${answer.source}`).toEqual(
          expectedAggregates(stored, { fromMs: T0 + DAY_MS, toMs: T0 + 2 * DAY_MS, bucketMs }),
        );
      }
    });

    it('include readings just written, before any maintenance pass, and the same after it', async () => {
      // Newer than anything materialised: TimescaleDB answers them by real-time aggregation,
      // plain PostgreSQL from the writer's pending partials.
      const [device, [metric]] = [ownDeviceNum(), await ownMetricNums(db, 1)];
      const now = Date.now();
      const fresh = [40, 31, 30, 12, 5].map((secondsAgo, index) => reading(device, metric!, now - secondsAgo * 1000, index - 1.5));
      expect(await insertReadings(db, [...fresh, { ...fresh[2]!, value: 99 }])).toBe(fresh.length);
      const answers = () => Promise.all([MINUTE_MS, HOUR_MS, DAY_MS].map((bucketMs) => ask(device, undefined, now - HOUR_MS, now, bucketMs)));
      const expected = [MINUTE_MS, HOUR_MS, DAY_MS].map((bucketMs) => expectedAggregates(fresh, { fromMs: now - HOUR_MS, toMs: now, bucketMs }));
      expect((await answers()).map((answer) => answer.rows)).toEqual(expected);
      await maintenance.runNow();
      expect((await answers()).map((answer) => answer.rows)).toEqual(expected);
    });

    it('refuse a bucket that is not a positive whole number of ms, and an empty list of aggregates', async () => {
      const query = { deviceNum: 1, metricNums: undefined, from: new Date(T0), to: new Date(T0 + DAY_MS), aggs: AGGREGATES };
      await expect(queryAggregates(db, { ...query, bucketMs: 0 })).rejects.toThrow(/bucketMs/);
      await expect(queryAggregates(db, { ...query, bucketMs: 1.5 })).rejects.toThrow(/bucketMs/);
      await expect(queryAggregates(db, { ...query, bucketMs: HOUR_MS, aggs: [] })).rejects.toThrow(/aggregate/);
    });
  });
});
