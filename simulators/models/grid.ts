/**
 * Grid domain: a 10 kV distribution feeder head and a distribution transformer's
 * 0.4 kV side, both metered with the same quantities at different scales.
 *
 * The load curve is a sum of cosines (daily, half-daily, weekly, yearly, half-yearly) so
 * its integral has a closed form: `energy_import` is the exact energy under the load
 * curve since a fixed epoch. It never decreases, and it carries on where it left off
 * when a simulator restarts, as a real meter's register does.
 */

import {
  MS_PER_DAY,
  MS_PER_HOUR,
  evaluateHarmonics,
  integrateHarmonics,
  type Harmonic,
} from './calendar.js';
import { clamp, finaliseMetrics, resolveModelOptions, type DeviceModel, type DeviceModelOptions } from './device-model.js';
import { between, deriveSeed, fractalNoise, mulberry32, sensorNoise, smoothNoise } from './noise.js';

const GRID_METRICS = [
  'voltage', 'current', 'active_power', 'reactive_power', 'power_factor', 'frequency', 'energy_import',
] as const;

const METER_EPOCH_MS = Date.UTC(2020, 0, 1);
const MS_PER_YEAR = 365.2425 * MS_PER_DAY;
const WEDNESDAY_NOON_UTC_MS = Date.UTC(2024, 0, 3, 12);

interface GridScale {
  kind: 'feeder-10kv' | 'transformer-lv';
  /** Reported voltage at no load: line-to-line for the feeder, phase for the LV side. */
  nominalVoltage: number;
  /** Current from power: I = P / (factor · V · PF); √3 line-to-line, 3 per phase. */
  currentFactor: number;
  meanLoadKw: readonly [min: number, max: number];
  voltageNoise: number;
  voltageStep: number;
}

const FEEDER: GridScale = {
  kind: 'feeder-10kv', nominalVoltage: 10_500, currentFactor: Math.sqrt(3),
  meanLoadKw: [1500, 3500], voltageNoise: 8, voltageStep: 1,
};
const TRANSFORMER_LV: GridScale = {
  kind: 'transformer-lv', nominalVoltage: 230, currentFactor: 3,
  meanLoadKw: [80, 250], voltageNoise: 0.4, voltageStep: 0.1,
};

/**
 * Urban mixed load relative to its mean: trough before dawn, late-morning and evening
 * peaks, a little lower at weekends, higher in the air-conditioning and heating seasons.
 */
function loadHarmonics(utcOffsetMs: number, peakShiftMs: number): Harmonic[] {
  return [
    { amplitude: 0.22, periodMs: MS_PER_DAY, phaseMs: 15 * MS_PER_HOUR - utcOffsetMs + peakShiftMs },
    { amplitude: 0.1, periodMs: MS_PER_DAY / 2, phaseMs: 8 * MS_PER_HOUR - utcOffsetMs + peakShiftMs },
    { amplitude: 0.04, periodMs: 7 * MS_PER_DAY, phaseMs: WEDNESDAY_NOON_UTC_MS - utcOffsetMs },
    { amplitude: 0.08, periodMs: MS_PER_YEAR, phaseMs: Date.UTC(2024, 6, 25) - utcOffsetMs },
    { amplitude: 0.04, periodMs: MS_PER_YEAR / 2, phaseMs: Date.UTC(2024, 0, 15) - utcOffsetMs },
  ];
}

function createGridMeter(scale: GridScale, options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const meanLoadKw = between(random, scale.meanLoadKw[0], scale.meanLoadKw[1]);
  // Commercial feeders peak earlier than residential ones.
  const harmonics = loadHarmonics(utcOffsetMinutes * 60_000, between(random, -1.5, 1.5) * MS_PER_HOUR);
  const registerAtEpochKwh = between(random, 1e4, 5e5);
  const resolution = {
    voltage: scale.voltageStep, current: 0.1, active_power: 0.1, reactive_power: 0.1,
    power_factor: 0.001, frequency: 0.01, energy_import: 0.01,
  };
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = {
    load: own('load'), power: own('power'), tap: own('tap'), voltage: own('voltage'),
    mix: own('mix'), pf: own('pf'),
    // One synchronous grid: every meter sees the same frequency at the same instant.
    frequency: deriveSeed(seed, 'region', 'frequency'),
  };

  function sample(atMs: number): Record<string, number> {
    const load = evaluateHarmonics(harmonics, atMs);
    const activePower =
      meanLoadKw * load * (1 + 0.05 * fractalNoise(seeds.load, atMs, 3 * MS_PER_HOUR)) * (1 + 0.01 * sensorNoise(seeds.power, atMs));
    // Heavier load means a larger drop along the line, partly offset by the tap changer.
    const voltage =
      scale.nominalVoltage * (1 + 0.012 * smoothNoise(seeds.tap, atMs, 2 * MS_PER_HOUR) - 0.02 * (load - 1)) +
      scale.voltageNoise * sensorNoise(seeds.voltage, atMs);
    // Motor and air-conditioning load at peaks pulls the power factor down.
    const powerFactor = clamp(
      0.95 - 0.04 * (load - 1) + 0.02 * smoothNoise(seeds.mix, atMs, 6 * MS_PER_HOUR) + 0.003 * sensorNoise(seeds.pf, atMs),
      0.85,
      0.99,
    );
    const reactivePower = activePower * Math.tan(Math.acos(powerFactor));
    const current = (activePower * 1000) / (scale.currentFactor * voltage * powerFactor);
    const frequency = clamp(
      50 + 0.025 * fractalNoise(seeds.frequency, atMs, 60_000) + 0.004 * sensorNoise(seeds.frequency, atMs),
      49.95,
      50.05,
    );
    const energyImport = registerAtEpochKwh + meanLoadKw * integrateHarmonics(harmonics, METER_EPOCH_MS, atMs);
    return finaliseMetrics(
      {
        voltage, current, active_power: activePower, reactive_power: reactivePower,
        power_factor: powerFactor, frequency, energy_import: energyImport,
      },
      resolution,
    );
  }

  return { kind: scale.kind, domain: 'grid', metrics: GRID_METRICS, sample };
}

export function createFeederMeter(options: DeviceModelOptions): DeviceModel {
  return createGridMeter(FEEDER, options);
}

export function createTransformerMeter(options: DeviceModelOptions): DeviceModel {
  return createGridMeter(TRANSFORMER_LV, options);
}
