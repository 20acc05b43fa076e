/**
 * Local time and the daily, weekly and yearly cycles the models are built from.
 *
 * Models take a fixed UTC offset rather than a time-zone name: the platform's city
 * (Tianjin, UTC+8) has no daylight saving, and a fixed offset keeps the models pure and
 * independent of the host's ICU data and TZ setting.
 */

export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 24 * MS_PER_HOUR;
const DAYS_PER_YEAR = 365.2425;

/** UTC+8, China Standard Time. */
export const DEFAULT_UTC_OFFSET_MINUTES = 480;

export interface LocalTime {
  /** Hour of the local day with fraction, in [0, 24). */
  hour: number;
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: number;
  /** Day of the local year with fraction, 0 = 1 January 00:00. */
  dayOfYear: number;
  isWeekend: boolean;
}

export function localTime(atMs: number, utcOffsetMinutes: number): LocalTime {
  const localMs = atMs + utcOffsetMinutes * 60_000;
  const date = new Date(localMs);
  const startOfYear = Date.UTC(date.getUTCFullYear(), 0, 1);
  const dayOfWeek = date.getUTCDay();
  return {
    hour: (((localMs % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / MS_PER_HOUR,
    dayOfWeek,
    dayOfYear: (localMs - startOfYear) / MS_PER_DAY,
    isWeekend: dayOfWeek === 0 || dayOfWeek === 6,
  };
}

/** Signed distance in hours from `centre` to `hour` on the 24 h circle, in [-12, 12). */
function hourDistance(hour: number, centre: number): number {
  return ((((hour - centre) % 24) + 36) % 24) - 12;
}

/**
 * A bell-shaped bump on the 24 h circle, 1 at `centreHour`, falling off with
 * `widthHours` as standard deviation: rush hours, demand peaks.
 */
export function dailyBump(hour: number, centreHour: number, widthHours: number): number {
  const d = hourDistance(hour, centreHour);
  return Math.exp(-(d * d) / (2 * widthHours * widthHours));
}

/** A cosine over the day, 1 at `peakHour` and -1 twelve hours later. */
export function dailyCosine(hour: number, peakHour: number): number {
  return Math.cos((2 * Math.PI * (hour - peakHour)) / 24);
}

/** A cosine over the year, 1 on `peakDay` (day of year) and -1 half a year later. */
export function yearlyCosine(dayOfYear: number, peakDay: number): number {
  return Math.cos((2 * Math.PI * (dayOfYear - peakDay)) / DAYS_PER_YEAR);
}

/** Daylight factor in [0, 1]: 0 at night, a sine arch between sunrise and sunset. */
export function daylight(hour: number, sunriseHour: number, sunsetHour: number): number {
  if (hour <= sunriseHour || hour >= sunsetHour) return 0;
  return Math.sin((Math.PI * (hour - sunriseHour)) / (sunsetHour - sunriseHour));
}

/** Sunrise and sunset at 39° N (Tianjin), close enough for a photochemistry curve. */
export function sunHours(dayOfYear: number): { sunrise: number; sunset: number } {
  // Day length swings between about 9.3 h (solstice, late Dec) and 15 h (late June).
  const halfDay = 6.1 + 1.4 * yearlyCosine(dayOfYear, 172);
  const solarNoon = 12.2;
  return { sunrise: solarNoon - halfDay, sunset: solarNoon + halfDay };
}

/**
 * A periodic term `amplitude · cos(2π (t − phaseMs) / periodMs)` over epoch milliseconds.
 * Kept as data rather than code so a load curve built from these terms can be integrated
 * exactly ({@link integrateHarmonics}); an energy counter then rises by exactly the
 * energy under the power curve, whenever and however often it is read.
 */
export interface Harmonic {
  amplitude: number;
  periodMs: number;
  phaseMs: number;
}

/** `1 + Σ amplitude · cos(…)` at `atMs`; positive whenever Σ|amplitude| < 1. */
export function evaluateHarmonics(harmonics: readonly Harmonic[], atMs: number): number {
  let value = 1;
  for (const h of harmonics) value += h.amplitude * Math.cos((2 * Math.PI * (atMs - h.phaseMs)) / h.periodMs);
  return value;
}

/** ∫ from `fromMs` to `toMs` of {@link evaluateHarmonics}, in hours (so × kW gives kWh). */
export function integrateHarmonics(harmonics: readonly Harmonic[], fromMs: number, toMs: number): number {
  let integralMs = toMs - fromMs;
  for (const h of harmonics) {
    const omega = (2 * Math.PI) / h.periodMs;
    integralMs += (h.amplitude / omega) * (Math.sin(omega * (toMs - h.phaseMs)) - Math.sin(omega * (fromMs - h.phaseMs)));
  }
  return integralMs / MS_PER_HOUR;
}

/** Road traffic relative to a weekday rush hour (1): drives NO2, noise and bridge loading. */
export function roadTraffic(t: LocalTime): number {
  if (t.isWeekend) return 0.08 + 0.45 * dailyBump(t.hour, 11, 3) + 0.4 * dailyBump(t.hour, 17, 3);
  return 0.08 + 0.9 * Math.max(dailyBump(t.hour, 8, 1.2), dailyBump(t.hour, 18, 1.5)) + 0.35 * dailyBump(t.hour, 13, 3);
}
