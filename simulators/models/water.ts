/**
 * Water domain: a supply-network monitoring point (pressure, flow and quality on a
 * distribution main) and a hydrology/drainage station on an urban river channel.
 */

import { MS_PER_DAY, MS_PER_HOUR, dailyBump, localTime, yearlyCosine, type LocalTime } from './calendar.js';
import { clamp, finaliseMetrics, resolveModelOptions, type DeviceModel, type DeviceModelOptions } from './device-model.js';
import { activeEvents, hydrograph, type EventSchedule } from './events.js';
import { between, deriveSeed, fractalNoise, mulberry32, sensorNoise, smoothNoise, uniformAt } from './noise.js';

const SUPPLY_METRICS = ['pressure', 'flow', 'turbidity', 'chlorine_residual', 'ph'] as const;
const HYDROLOGY_METRICS = ['level', 'flow', 'turbidity', 'ph', 'cod', 'ammonia_nitrogen'] as const;

const RESOLUTION = {
  pressure: 0.1, flow: 0.1, level: 0.01, turbidity: 0.01, chlorine_residual: 0.01,
  ph: 0.01, cod: 0.1, ammonia_nitrogen: 0.01,
} as const;

/**
 * Household demand relative to the daily mean: a night minimum around 03:00, a sharp
 * morning peak and a broader evening one; weekends wake up later.
 */
function waterDemand(t: LocalTime): number {
  const morning = t.isWeekend ? 0.95 * dailyBump(t.hour, 9, 1.8) : 1.15 * dailyBump(t.hour, 7.5, 1.3);
  return 0.35 + morning + 0.3 * dailyBump(t.hour, 14, 4) + 0.45 * dailyBump(t.hour, 12, 1.5) + 0.95 * dailyBump(t.hour, 19.5, 1.8);
}

export function createSupplyMonitor(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const basePressureKpa = between(random, 290, 340);
  const meanFlowM3h = between(random, 80, 400);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = {
    pump: own('pump'), drift: own('drift'), pressure: own('pressure'), flow: own('flow'),
    sediment: own('sediment'), turbidity: own('turbidity'), dosing: own('dosing'), chlorine: own('chlorine'),
    source: own('source'), ph: own('ph'),
  };

  function sample(atMs: number): Record<string, number> {
    const demand = waterDemand(localTime(atMs, utcOffsetMinutes));
    // Less flow means less friction loss in the mains, so pressure rises at night.
    const pressure = clamp(
      basePressureKpa + 37 * (1 - demand) + 4 * smoothNoise(seeds.pump, atMs, 20 * 60_000) +
        0.8 * sensorNoise(seeds.pressure, atMs),
      250,
      400,
    );
    const flow = Math.max(
      0,
      meanFlowM3h * demand * (1 + 0.08 * fractalNoise(seeds.drift, atMs, MS_PER_DAY)) * (1 + 0.02 * sensorNoise(seeds.flow, atMs)),
    );
    // High flow stirs up pipe sediment; drinking water stays well under 1 NTU.
    const turbidity = clamp(
      0.15 + 0.08 * smoothNoise(seeds.sediment, atMs, 12 * MS_PER_HOUR) + 0.06 * Math.max(0, demand - 1) +
        0.01 * sensorNoise(seeds.turbidity, atMs),
      0.02,
      1,
    );
    // At night water sits longer in the pipes and its chlorine decays.
    const chlorine = clamp(
      0.55 + 0.12 * smoothNoise(seeds.dosing, atMs, MS_PER_DAY) + 0.06 * (demand - 1) + 0.01 * sensorNoise(seeds.chlorine, atMs),
      0.3,
      0.8,
    );
    const ph = clamp(7.45 + 0.15 * smoothNoise(seeds.source, atMs, 2 * MS_PER_DAY) + 0.02 * sensorNoise(seeds.ph, atMs), 7, 8);
    return finaliseMetrics({ pressure, flow, turbidity, chlorine_residual: chlorine, ph }, RESOLUTION);
  }

  return { kind: 'supply-monitor', domain: 'water', metrics: SUPPLY_METRICS, sample };
}

export function createHydrologyStation(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const baseLevelM = between(random, 1.5, 3.5);
  const ratingCoefficient = between(random, 0.8, 2.2);
  const catchmentResponse = between(random, 0.6, 1.2);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  // Storms are regional: every station of a fleet sees the same storm, scaled by its catchment.
  const stormSeed = deriveSeed(seed, 'region', 'storm');
  const seasonSeed = deriveSeed(seed, 'region', 'storm-season');
  const storms: EventSchedule = {
    slotMs: MS_PER_DAY,
    probability: 0.25,
    minDurationMs: MS_PER_DAY,
    maxDurationMs: 3 * MS_PER_DAY,
    // North China gets most of its rain in July and August.
    mayStartAt: (startMs) => {
      const summer = 0.5 * (1 + yearlyCosine(localTime(startMs, utcOffsetMinutes).dayOfYear, 205));
      return uniformAt(seasonSeed, Math.floor(startMs / MS_PER_HOUR)) < 0.1 + 0.9 * summer * summer;
    },
  };
  const seeds = {
    wetness: deriveSeed(seed, 'region', 'wetness'), level: own('level'), quality: own('quality'),
    ph: own('ph'), cod: own('cod'), ammonia: own('ammonia'), turbidity: own('turbidity'),
  };

  function sample(atMs: number): Record<string, number> {
    let storm = 0;
    for (const event of activeEvents(stormSeed, storms, atMs)) storm += (0.2 + event.magnitude) * hydrograph(event.progress);
    storm *= catchmentResponse;
    const level = baseLevelM + 0.3 * fractalNoise(seeds.wetness, atMs, 10 * MS_PER_DAY) + storm + 0.005 * sensorNoise(seeds.level, atMs);
    // Stage–discharge rating curve Q = k·(h − h0)^1.6, in m³/s, reported in m³/h.
    const head = Math.max(0, level - (baseLevelM - 1.2));
    const flow = ratingCoefficient * head ** 1.6 * 3600;
    const quality = smoothNoise(seeds.quality, atMs, 2 * MS_PER_DAY);
    // First flush: runoff carries organics, ammonia and silt; rain dilutes the river's alkalinity.
    const ph = clamp(7.6 + 0.25 * quality - 0.2 * storm + 0.02 * sensorNoise(seeds.ph, atMs), 6.5, 8.8);
    const cod = Math.max(3, 18 + 6 * quality + 14 * storm + 0.4 * sensorNoise(seeds.cod, atMs));
    const ammonia = Math.max(0.05, 0.6 + 0.25 * quality + 0.6 * storm + 0.02 * sensorNoise(seeds.ammonia, atMs));
    const turbidity = Math.max(1, 12 + 5 * quality + 90 * storm + 0.5 * sensorNoise(seeds.turbidity, atMs));
    return finaliseMetrics({ level, flow, turbidity, ph, cod, ammonia_nitrogen: ammonia }, RESOLUTION);
  }

  return { kind: 'hydrology-station', domain: 'water', metrics: HYDROLOGY_METRICS, sample };
}
