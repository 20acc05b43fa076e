/**
 * What every simulated device model is: a pure function from an instant to the metrics
 * object the device would publish, restricted to catalogue metrics and their ranges.
 */

import { METRIC_CATALOGUE, type Domain } from '../../contracts/metric-catalogue.js';
import { DEFAULT_UTC_OFFSET_MINUTES } from './calendar.js';

/** A telemetry `metrics` object: catalogue key → value in the catalogue's canonical unit. */
export type Metrics = Record<string, number>;

export interface DeviceModel {
  /** The device type, e.g. `air-quality-station`. */
  readonly kind: string;
  readonly domain: Domain;
  /** Catalogue keys this device reports, in payload order; every sample has all of them. */
  readonly metrics: readonly string[];
  /**
   * The reading at `atMs` (epoch milliseconds). Pure: the same model options and instant
   * always give the same values, whatever was sampled before.
   */
  sample(atMs: number): Metrics;
}

/** Options every model factory takes. */
export interface DeviceModelOptions {
  /** Fleet seed; with `deviceId` it fixes every random choice of the device. */
  seed: number | string;
  /** The device's id; devices under the same seed differ because their ids do. */
  deviceId: string;
  /**
   * Offset of the device's local time from UTC, for daily and weekly cycles.
   * @defaultValue 480 (UTC+8, China Standard Time)
   */
  utcOffsetMinutes?: number;
}

/**
 * Reporting resolution of one metric, as the step values are rounded to
 * (0.1 for a sensor with one decimal, 1 for integers).
 */
export type Resolution = Readonly<Record<string, number>>;

function decimalsOf(step: number): number {
  const text = String(step);
  const dot = text.indexOf('.');
  return dot === -1 ? 0 : text.length - dot - 1;
}

/**
 * Clamps each raw value into the catalogue's physical range and rounds it to the
 * metric's resolution. Rounding through `toFixed` avoids float tails such as
 * 0.30000000000000004 that a real sensor would never send.
 *
 * @throws Error when a key is not in the catalogue, has no resolution, or the value is not
 * finite: each is a bug in a model, and a test should catch it rather than a broker.
 */
export function finaliseMetrics(raw: Metrics, resolution: Resolution): Metrics {
  const result: Metrics = {};
  for (const [key, value] of Object.entries(raw)) {
    const definition = METRIC_CATALOGUE.get(key);
    const step = resolution[key];
    if (definition === undefined) throw new Error(`model produced metric "${key}", which is not in the catalogue`);
    if (step === undefined) throw new Error(`model produced metric "${key}" without a resolution`);
    if (!Number.isFinite(value)) throw new Error(`model produced a non-finite value for "${key}": ${value}`);
    const clamped = Math.min(definition.max, Math.max(definition.min, value));
    const rounded = Number((Math.round(clamped / step) * step).toFixed(decimalsOf(step)));
    // Rounding may step just past a range bound that is not a multiple of the step.
    result[key] = Math.min(definition.max, Math.max(definition.min, rounded === 0 ? 0 : rounded));
  }
  return result;
}

/** Resolves the options' optional fields to their defaults. */
export function resolveModelOptions(options: DeviceModelOptions): Required<DeviceModelOptions> {
  return {
    seed: options.seed,
    deviceId: options.deviceId,
    utcOffsetMinutes: options.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES,
  };
}

/** Keeps `value` within [min, max]: for soft physical limits tighter than the catalogue's. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
