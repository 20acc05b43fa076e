import type { Queryable } from '../../storage/database.js';
import { queryAggregates } from '../../storage/aggregates-query.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import { AQI_ITEMS, computeAqi, realTimeInputs, type AqiInputs, type AqiResult, type HourlyValue } from './aqi.js';

export const HOUR_MS = 3_600_000;
/** The pollutants of HJ 633-2012, by catalogue key. */
export const AQI_METRICS = ['so2', 'no2', 'pm10', 'co', 'o3', 'pm2_5'] as const;

export interface Station {
  id: string;
  num: number;
  district: string | undefined;
}

/** Air-quality stations: environment-domain devices, optionally of one district or one id. */
export async function findStations(db: Queryable, filter: { district?: string; id?: string }): Promise<Station[]> {
  const result = await db.query<{ id: string; num: number; district: string | null }>(
    `SELECT id, num, district FROM devices
     WHERE domain = 'environment' AND ($1::text IS NULL OR district = $1) AND ($2::text IS NULL OR id = $2)
     ORDER BY id`,
    [filter.district ?? null, filter.id ?? null],
  );
  return result.rows.map((row) => ({ id: row.id, num: row.num, district: row.district ?? undefined }));
}

/**
 * A station's real-time report inputs for the hour starting at `hourStartMs`, from the
 * 1-hour rollup (the 24 hours up to and including that hour).
 */
export async function stationInputs(db: Queryable, dictionary: MetricDictionary, station: Station, hourStartMs: number): Promise<AqiInputs> {
  const nums = new Map(AQI_METRICS.flatMap((key) => {
    const num = dictionary.numOf(key);
    return num === undefined ? [] : [[num, key] as const];
  }));
  const result = await queryAggregates(db, {
    deviceNum: station.num, metricNums: [...nums.keys()], from: new Date(hourStartMs - 23 * HOUR_MS), to: new Date(hourStartMs + HOUR_MS),
    bucketMs: HOUR_MS, aggs: ['avg'],
  });
  const hourly = new Map<string, HourlyValue[]>();
  for (const row of result.rows) {
    const key = nums.get(row.metricNum);
    if (key === undefined || row.avg === undefined) continue;
    const list = hourly.get(key) ?? [];
    list.push({ hourStartMs: row.bucket.getTime(), value: row.avg });
    hourly.set(key, list);
  }
  return realTimeInputs(hourly, hourStartMs);
}

/**
 * An area's AQI from its stations: each item's concentration is the mean over the stations
 * that have it, and the AQI is computed from those means (an area's AQI is not the mean of
 * its stations' AQIs).
 */
export function areaAqi(stations: readonly AqiInputs[]): AqiResult | undefined {
  const inputs: AqiInputs = {};
  for (const item of AQI_ITEMS) {
    const values = stations.flatMap((station) => (station[item] === undefined ? [] : [station[item]]));
    if (values.length > 0) inputs[item] = values.reduce((sum, value) => sum + value, 0) / values.length;
  }
  return computeAqi(inputs);
}
