import { randomInt, randomUUID } from 'node:crypto';
import type { AggregateRow } from '../../storage/aggregates-query.js';
import type { Database, Queryable } from '../../storage/database.js';
import { loadMetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate, type MigrationReport } from '../../storage/migrate.js';
import type { StoredReading } from '../../storage/readings-store.js';
import { createStorageMaintenance, type StorageMaintenance } from '../../storage/storage-maintenance.js';
import { DEFAULT_STORAGE_SETTINGS, type StorageSettings } from '../../storage/storage-settings.js';
import type { OwnedDatabase } from './storage-contract-modes.js';
import { mulberry32 } from '../../simulators/models/noise.js';

/*
 * Readings and expected answers for the storage contract suites. Expectations are
 * computed here from the readings the test wrote, never read back through the store.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** UTC midnight `days` days before today: tests place data relative to the clock because retention and compression are. */
export function daysAgo(days: number): number {
  return Math.floor(Date.now() / DAY_MS) * DAY_MS - days * DAY_MS;
}

export function reading(deviceNum: number, metricNum: number, timeMs: number, value: number): StoredReading {
  return { time: new Date(timeMs), deviceNum, metricNum, value, qualityCode: 0, sourceQuality: undefined };
}

/** A device number of the test's own (readings have no foreign key to devices). */
export function ownDeviceNum(): number {
  return randomInt(1_000_000, 2_000_000_000);
}

/** Metric numbers of the test's own keys (the raw-range and aggregate queries list metrics from the dictionary). */
export async function ownMetricNums(db: Queryable, count: number): Promise<number[]> {
  const prefix = `m_${randomUUID().slice(0, 8)}`;
  const keys = Array.from({ length: count }, (_, index) => `${prefix}_${index}`);
  const dictionary = await loadMetricDictionary(db, keys);
  return keys.map((key) => dictionary.numOf(key)!);
}

/**
 * Readings at irregular times (gaps from 1 ms to 2 × meanStepMs) with values that are
 * multiples of 0.25 within ±50: sums of such values are exact in float64 in any order,
 * so every mode's sum, and so its average, must equal the one computed here exactly.
 */
export function irregularSeries(seed: number, deviceNum: number, metricNum: number, fromMs: number, toMs: number, meanStepMs: number): StoredReading[] {
  const random = mulberry32(seed);
  const readings: StoredReading[] = [];
  for (let time = fromMs + Math.floor(random() * meanStepMs); time < toMs; time += 1 + Math.floor(random() * 2 * meanStepMs)) {
    readings.push(reading(deviceNum, metricNum, time, Math.round((random() * 100 - 50) * 4) / 4));
  }
  return readings;
}

/** What the database keeps of these deliveries: the first of each (device, metric, time). */
export function storedOnce(deliveries: readonly StoredReading[]): StoredReading[] {
  const kept = new Map<string, StoredReading>();
  for (const delivery of deliveries) {
    const key = `${delivery.deviceNum}/${delivery.metricNum}/${delivery.time.getTime()}`;
    if (!kept.has(key)) kept.set(key, delivery);
  }
  return [...kept.values()];
}

export interface BucketQuery {
  fromMs: number;
  toMs: number;
  bucketMs: number;
  originMs?: number;
}

/** Every aggregate of every whole bucket overlapping [from, to), by metric then bucket, from the readings alone. */
export function expectedAggregates(stored: readonly StoredReading[], query: BucketQuery): Required<AggregateRow>[] {
  const { bucketMs, originMs = 0 } = query;
  const floor = (ms: number) => originMs + Math.floor((ms - originMs) / bucketMs) * bucketMs;
  const from = floor(query.fromMs);
  const to = floor(query.toMs) === query.toMs ? query.toMs : floor(query.toMs) + bucketMs;
  const groups = new Map<string, StoredReading[]>();
  for (const r of stored) {
    const time = r.time.getTime();
    if (time < from || time >= to) continue;
    const key = `${r.metricNum}/${floor(time)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.entries()]
    .map(([key, members]) => {
      const [metricNum, bucket] = key.split('/').map(Number) as [number, number];
      const byTime = [...members].sort((a, b) => a.time.getTime() - b.time.getTime());
      const values = byTime.map((r) => r.value);
      // No initial 0: like SQL's sum, a bucket holding only -0 sums to -0.
      const sum = values.reduce((total, value) => total + value);
      return {
        metricNum,
        bucket: new Date(bucket),
        avg: sum / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        count: values.length,
        sum,
        first: values[0]!,
        last: values.at(-1)!,
      };
    })
    .sort((a, b) => a.metricNum - b.metricNum || a.bucket.getTime() - b.bucket.getTime());
}

/** A database of the test's own, migrated, with maintenance under `settings` (no loop: the test runs passes). */
export async function openStorage(
  owned: OwnedDatabase,
  settings: Partial<StorageSettings> = {},
): Promise<{ db: Database; report: MigrationReport; maintenance: StorageMaintenance }> {
  const db = await owned.open();
  const report = await migrate(db);
  const maintenance = await createStorageMaintenance({ ...DEFAULT_STORAGE_SETTINGS, ...settings, loop: false }, { db, capabilities: report.capabilities });
  return { db, report, maintenance };
}
