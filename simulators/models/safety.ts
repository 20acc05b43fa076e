/**
 * Safety domain: a combustible-gas monitor (gas pipeline valve chamber or a hazardous-
 * chemical site), a sewer manhole monitor, and a bridge structural-health monitor.
 *
 * Alarms are what these devices exist for, yet almost every reading is quiet: leaks,
 * alarms and lifted covers are rare scheduled events ({@link activeEvents}), so a fleet
 * run for a week shows a handful of them among thousands of background readings.
 */

import { MS_PER_DAY, MS_PER_HOUR, dailyBump, localTime, roadTraffic, yearlyCosine } from './calendar.js';
import { clamp, finaliseMetrics, resolveModelOptions, type DeviceModel, type DeviceModelOptions } from './device-model.js';
import { regionalAirTemperature } from './environment.js';
import { activeEvents, eventEnvelope, isEventActive, type EventSchedule } from './events.js';
import { between, deriveSeed, mulberry32, sensorNoise, smoothNoise } from './noise.js';

const RESOLUTION = {
  gas_lel: 0.1, h2s: 0.1, smoke_alarm: 1, cover_open: 1, strain: 0.1, vibration: 0.01, tilt: 0.001,
} as const;

/** About one leak every three weeks per device: rare, but a week-long run of a fleet shows some. */
const GAS_LEAKS: EventSchedule = {
  slotMs: 6 * MS_PER_HOUR, probability: 0.012, minDurationMs: 10 * 60_000, maxDurationMs: 90 * 60_000,
};
const H2S_RELEASES: EventSchedule = {
  slotMs: 12 * MS_PER_HOUR, probability: 0.01, minDurationMs: 15 * 60_000, maxDurationMs: 2 * MS_PER_HOUR,
};
const SMOKE_ALARMS: EventSchedule = {
  slotMs: MS_PER_DAY, probability: 0.004, minDurationMs: 2 * 60_000, maxDurationMs: 20 * 60_000,
};

/** Peak-scaled sum of the events covering `atMs`: 0 when nothing is happening. */
function eventLevel(seed: number, schedule: EventSchedule, atMs: number, minPeak: number, maxPeak: number): number {
  let level = 0;
  for (const event of activeEvents(seed, schedule, atMs)) {
    level += (minPeak + (maxPeak - minPeak) * event.magnitude) * eventEnvelope(event.progress);
  }
  return level;
}

export function createGasMonitor(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const backgroundLel = between(random, 0.3, 1.2);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = {
    drift: own('drift'), lel: own('lel'), leak: own('leak'), h2s: own('h2s'), release: own('release'), smoke: own('smoke'),
  };

  function sample(atMs: number): Record<string, number> {
    const leak = eventLevel(seeds.leak, GAS_LEAKS, atMs, 8, 60);
    const gasLel = Math.max(
      0,
      backgroundLel * (1 + 0.5 * smoothNoise(seeds.drift, atMs, 6 * MS_PER_HOUR)) + leak * (1 + 0.05 * sensorNoise(seeds.lel, atMs)) +
        0.1 * sensorNoise(seeds.lel + 1, atMs),
    );
    const h2s = Math.max(0, 0.2 + eventLevel(seeds.release, H2S_RELEASES, atMs, 5, 40) + 0.05 * sensorNoise(seeds.h2s, atMs));
    const smoke = isEventActive(seeds.smoke, SMOKE_ALARMS, atMs) ? 1 : 0;
    return finaliseMetrics({ gas_lel: gasLel, h2s, smoke_alarm: smoke }, RESOLUTION);
  }

  return { kind: 'gas-monitor', domain: 'safety', metrics: ['gas_lel', 'h2s', 'smoke_alarm'], sample };
}

export function createManholeMonitor(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const methaneLel = between(random, 0.5, 2.5);
  const sewerH2sPpm = between(random, 0.5, 3);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = {
    maintenance: own('maintenance'), displaced: own('displaced'), drift: own('drift'), lel: own('lel'),
    accumulation: own('accumulation'), h2s: own('h2s'), release: own('release'),
  };
  // Crews lift covers on weekdays, in working hours.
  const maintenance: EventSchedule = {
    slotMs: MS_PER_DAY, probability: 0.04, minDurationMs: 20 * 60_000, maxDurationMs: 2 * MS_PER_HOUR,
    mayStartAt: (startMs) => {
      const t = localTime(startMs, utcOffsetMinutes);
      return !t.isWeekend && t.hour >= 9 && t.hour < 16;
    },
  };
  // A cover knocked off by traffic or stolen stays open until someone comes.
  const displacement: EventSchedule = {
    slotMs: 7 * MS_PER_DAY, probability: 0.01, minDurationMs: 2 * MS_PER_HOUR, maxDurationMs: 12 * MS_PER_HOUR,
  };

  function sample(atMs: number): Record<string, number> {
    const t = localTime(atMs, utcOffsetMinutes);
    const open = isEventActive(seeds.maintenance, maintenance, atMs) || isEventActive(seeds.displaced, displacement, atMs);
    // An open cover ventilates the shaft.
    const ventilation = open ? 0.3 : 1;
    const gasLel = Math.max(
      0,
      (methaneLel * (1 + 0.4 * smoothNoise(seeds.drift, atMs, 8 * MS_PER_HOUR)) + eventLevel(seeds.accumulation, GAS_LEAKS, atMs, 10, 40)) *
        ventilation + 0.1 * sensorNoise(seeds.lel, atMs),
    );
    // Sewage flow peaks in the morning and evening; turbulence releases H2S, more when warm.
    const flowRelease = 0.6 + 0.5 * dailyBump(t.hour, 9, 2) + 0.4 * dailyBump(t.hour, 20, 2.5);
    const warmth = 0.7 + 0.3 * yearlyCosine(t.dayOfYear, 210);
    const h2s = Math.max(
      0,
      (sewerH2sPpm * flowRelease * warmth + eventLevel(seeds.release, H2S_RELEASES, atMs, 10, 80)) * ventilation +
        0.1 * sensorNoise(seeds.h2s, atMs),
    );
    return finaliseMetrics({ cover_open: open ? 1 : 0, gas_lel: gasLel, h2s }, RESOLUTION);
  }

  return { kind: 'manhole-monitor', domain: 'safety', metrics: ['cover_open', 'gas_lel', 'h2s'], sample };
}

export function createBridgeMonitor(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const strainOffset = between(random, -150, 150);
  // Restrained thermal expansion: a girder in compression as it warms.
  const thermalStrainPerC = between(random, -8, -4);
  const trafficStrain = between(random, 15, 40);
  const baseTiltDeg = between(random, -0.05, 0.05);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = { axle: own('axle'), strain: own('strain'), vibration: own('vibration'), settlement: own('settlement'), tilt: own('tilt') };

  function sample(atMs: number): Record<string, number> {
    const t = localTime(atMs, utcOffsetMinutes);
    // Steel and concrete lag the air by an hour or two and swing less.
    const laggedMs = atMs - 1.5 * MS_PER_HOUR;
    const structureC = regionalAirTemperature(seed, laggedMs, localTime(laggedMs, utcOffsetMinutes)) * 0.85;
    const traffic = roadTraffic(t);
    const axle = Math.max(0, sensorNoise(seeds.axle, atMs));
    const strain =
      strainOffset + thermalStrainPerC * (structureC - 15) + trafficStrain * traffic * axle * axle +
      1.5 * sensorNoise(seeds.strain, atMs);
    const vibration = Math.max(0.01, 0.03 + traffic * 0.6 * (0.5 + Math.abs(sensorNoise(seeds.vibration, atMs))));
    const tilt = clamp(
      baseTiltDeg + 0.0004 * (structureC - 15) + 0.002 * smoothNoise(seeds.settlement, atMs, 30 * MS_PER_DAY) +
        0.0005 * sensorNoise(seeds.tilt, atMs),
      -1,
      1,
    );
    return finaliseMetrics({ strain, vibration, tilt }, RESOLUTION);
  }

  return { kind: 'bridge-monitor', domain: 'safety', metrics: ['strain', 'vibration', 'tilt'], sample };
}
