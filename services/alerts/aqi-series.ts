import type { CanonicalReading } from '../../contracts/reading.js';
import type { Queryable } from '../../storage/database.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import { computeAqi } from './aqi.js';
import { AQI_METRICS, HOUR_MS, stationInputs, type Station } from './station-aqi.js';

/**
 * Issue 7: the `aqi` series rules can watch. HJ 633-2012's real-time AQI is an hourly
 * figure from hourly averages, so it is evaluated once per station and completed hour —
 * when the first pollutant reading of a later hour arrives — not on every reading of a
 * half-filled hour. Readings that arrive for an hour after it was evaluated do not change
 * the alert (GET /api/v1/aqi still answers from them).
 */
export const AQI_SERIES = 'aqi';

const POLLUTANTS: ReadonlySet<string> = new Set(AQI_METRICS);

/** Per device that sent pollutants: the start of the last complete hour before its newest pollutant reading. */
export function completedAqiHours(readings: readonly CanonicalReading[]): Map<string, number> {
  const hours = new Map<string, number>();
  for (const reading of readings) {
    if (!POLLUTANTS.has(reading.metric)) continue;
    const previousHour = Math.floor(reading.time.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
    if (previousHour > (hours.get(reading.deviceId) ?? -Infinity)) hours.set(reading.deviceId, previousHour);
  }
  return hours;
}

/** The station's real-time AQI for the hour starting at `hourStartMs`; `undefined` without enough data (GB 3095-2012 Table 4). */
export async function stationAqiValue(db: Queryable, dictionary: MetricDictionary, station: Station, hourStartMs: number): Promise<number | undefined> {
  return computeAqi(await stationInputs(db, dictionary, station, hourStartMs))?.aqi;
}
