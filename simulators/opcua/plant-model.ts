/**
 * The process behind the plant simulator's OPC UA server: a drinking-water plant
 * (duty/standby pumps filling a clear-water reservoir that the town draws from) and a
 * 10 kV substation (feeders with breakers). Unlike the MQTT device models, a plant has
 * state — the reservoir integrates inflow minus demand and the pumps start and stop on
 * its level — so the model is stepped through time; its randomness is still a pure
 * function of (seed, point, time), so two runs from the same start agree.
 */

import { MS_PER_HOUR, dailyBump, localTime } from '../models/calendar.js';
import { clamp } from '../models/device-model.js';
import { deriveSeed, sensorNoise, smoothNoise, uniformAt } from '../models/noise.js';

export type PointValue = number | boolean;

/** One variable of the plant, as the server exposes it. */
export interface PlantPoint {
  /** Dotted path under Objects, also the string NodeId: `WaterPlant.Pump1.Flow`. */
  key: string;
  dataType: 'Double' | 'Boolean';
  /** Engineering unit as the catalogue spells it (`m3/h`, `bar`); absent for states. */
  unit?: string;
  /** EURange of an analog item: what the instrument can show. */
  range?: readonly [low: number, high: number];
  /** The catalogue metric a mapping would use. */
  metric: string;
  description: string;
}

export interface PlantModelOptions {
  /** Pumps in the pumping station. @defaultValue 3 */
  pumps?: number;
  /** 10 kV feeders in the substation. @defaultValue 3 */
  feeders?: number;
  /** Fixes every random choice. @defaultValue 1 */
  seed?: number | string;
  /** Local time for the daily demand curve. @defaultValue 480 (UTC+8) */
  utcOffsetMinutes?: number;
}

export interface PlantModel {
  readonly points: readonly PlantPoint[];
  /** Advances the process to `atMs` and returns every point's value then. */
  step(atMs: number): Map<string, PointValue>;
}

const RESERVOIR_AREA_M2 = 900;
const PUMP_RATED_M3H = 420;
const LEVEL_START_PUMP_M = 3.2;
const LEVEL_STOP_PUMP_M = 4.6;
/** A tripped breaker recloses after this long (auto-recloser). */
const RECLOSE_MS = 45_000;

/** To the instrument's resolution, without binary float tails (1615.6000000000001). */
function round(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number((Math.round(value / step) * step).toFixed(decimals));
}

export function plantPoints(pumps: number, feeders: number): PlantPoint[] {
  const points: PlantPoint[] = [];
  for (let p = 1; p <= pumps; p += 1) {
    points.push(
      { key: `WaterPlant.Pump${p}.Running`, dataType: 'Boolean', metric: 'pump_running', description: `Pump ${p} running` },
      { key: `WaterPlant.Pump${p}.Flow`, dataType: 'Double', unit: 'm3/h', range: [0, 600], metric: 'flow', description: `Pump ${p} discharge flow` },
    );
  }
  points.push(
    { key: 'WaterPlant.Reservoir.Level', dataType: 'Double', unit: 'm', range: [0, 6], metric: 'level', description: 'Clear-water reservoir level' },
    { key: 'WaterPlant.Outlet.Pressure', dataType: 'Double', unit: 'bar', range: [0, 10], metric: 'pressure', description: 'Outlet main pressure' },
    { key: 'WaterPlant.Outlet.Turbidity', dataType: 'Double', unit: 'NTU', range: [0, 10], metric: 'turbidity', description: 'Outlet turbidity' },
    { key: 'WaterPlant.Outlet.ChlorineResidual', dataType: 'Double', unit: 'mg/L', range: [0, 5], metric: 'chlorine_residual', description: 'Outlet free residual chlorine' },
  );
  for (let f = 1; f <= feeders; f += 1) {
    const at = `Substation.Feeder${f}`;
    points.push(
      { key: `${at}.Voltage`, dataType: 'Double', unit: 'kV', range: [0, 12], metric: 'voltage', description: `Feeder ${f} line voltage` },
      { key: `${at}.Current`, dataType: 'Double', unit: 'A', range: [0, 600], metric: 'current', description: `Feeder ${f} phase current` },
      { key: `${at}.ActivePower`, dataType: 'Double', unit: 'kW', range: [0, 10_000], metric: 'active_power', description: `Feeder ${f} active power` },
      { key: `${at}.PowerFactor`, dataType: 'Double', unit: '1', range: [0, 1], metric: 'power_factor', description: `Feeder ${f} power factor` },
      { key: `${at}.BreakerClosed`, dataType: 'Boolean', metric: 'breaker_closed', description: `Feeder ${f} circuit breaker closed` },
    );
  }
  return points;
}

export function createPlantModel(options: PlantModelOptions = {}): PlantModel {
  const pumps = options.pumps ?? 3;
  const feeders = options.feeders ?? 3;
  const seed = options.seed ?? 1;
  const utcOffsetMinutes = options.utcOffsetMinutes ?? 480;
  const points = plantPoints(pumps, feeders);
  const noise = (label: string) => deriveSeed(seed, 'plant', label);
  const running = Array.from({ length: pumps }, (_, index) => index === 0);
  const trippedUntil = Array.from({ length: feeders }, () => 0);
  const feederBaseKw = Array.from({ length: feeders }, (_, index) => 1800 + 2400 * uniformAt(noise('feeder-size'), index));
  let level = 4;
  let lastMs: number | undefined;

  function demandM3h(atMs: number): number {
    const t = localTime(atMs, utcOffsetMinutes);
    const daily = 0.45 + 1.1 * dailyBump(t.hour, 7.5, 1.5) + 0.5 * dailyBump(t.hour, 12, 2) + 0.9 * dailyBump(t.hour, 19.5, 2);
    return PUMP_RATED_M3H * 1.3 * daily * (1 + 0.1 * smoothNoise(noise('demand'), atMs, 10 * 60_000));
  }

  function pumpFlow(index: number, atMs: number): number {
    if (!running[index]) return 0;
    // Pumps on a common header share the head: each gives less when more run.
    const share = 1 - 0.06 * (running.filter(Boolean).length - 1);
    return PUMP_RATED_M3H * share * (1 + 0.03 * smoothNoise(noise(`pump${index}`), atMs, 5 * 60_000) + 0.005 * sensorNoise(noise(`pump${index}-sensor`), atMs));
  }

  function stagePumps(): void {
    // Level control with hysteresis: one more pump below the start level, one fewer above the stop level.
    const on = running.filter(Boolean).length;
    if (level < LEVEL_START_PUMP_M && on < pumps) running[running.indexOf(false)] = true;
    if (level > LEVEL_STOP_PUMP_M && on > 0) running[running.lastIndexOf(true)] = false;
  }

  function step(atMs: number): Map<string, PointValue> {
    const dtHours = lastMs === undefined ? 0 : clamp(atMs - lastMs, 0, 60_000) / MS_PER_HOUR;
    lastMs = atMs;
    // The controller acts on the level it last measured; then the pumps deliver.
    stagePumps();
    const flows = running.map((_, index) => pumpFlow(index, atMs));
    const inflow = flows.reduce((sum, flow) => sum + flow, 0);
    const demand = demandM3h(atMs);
    level = clamp(level + ((inflow - demand) * dtHours) / RESERVOIR_AREA_M2, 0.2, 5.8);

    const values = new Map<string, PointValue>();
    running.forEach((on, index) => {
      values.set(`WaterPlant.Pump${index + 1}.Running`, on);
      values.set(`WaterPlant.Pump${index + 1}.Flow`, round(flows[index] ?? 0, 0.1));
    });
    values.set('WaterPlant.Reservoir.Level', round(level + 0.004 * sensorNoise(noise('level'), atMs), 0.001));
    const pressureBar = 1.2 + 0.35 * level + 0.45 * running.filter(Boolean).length - 0.0006 * demand;
    values.set('WaterPlant.Outlet.Pressure', round(clamp(pressureBar + 0.01 * sensorNoise(noise('pressure'), atMs), 0, 10), 0.001));
    values.set('WaterPlant.Outlet.Turbidity', round(clamp(0.12 + 0.05 * smoothNoise(noise('turbidity'), atMs, 30 * 60_000) + 0.00008 * inflow, 0.02, 5), 0.001));
    values.set('WaterPlant.Outlet.ChlorineResidual', round(clamp(0.55 + 0.08 * smoothNoise(noise('chlorine'), atMs, 45 * 60_000) - 0.00004 * demand, 0.05, 2), 0.001));

    const load = 0.55 + 0.4 * dailyBump(localTime(atMs, utcOffsetMinutes).hour, 19, 3);
    for (let f = 0; f < feeders; f += 1) {
      const at = `Substation.Feeder${f + 1}`;
      // A rare fault trips a breaker (about once a day per feeder, in 10 s slots).
      if (trippedUntil[f]! <= atMs && uniformAt(noise(`trip${f}`), Math.floor(atMs / 10_000)) < 1 / 8640) trippedUntil[f] = atMs + RECLOSE_MS;
      const closed = trippedUntil[f]! <= atMs;
      const powerFactor = clamp(0.93 + 0.03 * smoothNoise(noise(`pf${f}`), atMs, 20 * 60_000), 0.8, 0.99);
      const kw = closed ? feederBaseKw[f]! * load * (1 + 0.08 * smoothNoise(noise(`load${f}`), atMs, 15 * 60_000)) : 0;
      const kv = 10.5 - 0.00012 * kw + 0.03 * sensorNoise(noise(`kv${f}`), atMs);
      values.set(`${at}.Voltage`, round(kv, 0.001));
      values.set(`${at}.Current`, round(kw / (Math.sqrt(3) * kv * powerFactor), 0.1));
      values.set(`${at}.ActivePower`, round(kw, 0.1));
      values.set(`${at}.PowerFactor`, round(closed ? powerFactor : 0, 0.001));
      values.set(`${at}.BreakerClosed`, closed);
    }
    return values;
  }

  return { points, step };
}
