import { describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { DEVICE_KINDS, DEVICE_KIND_NAMES, createDeviceModel, type DeviceKind } from './index.js';

const WEEK_MINUTES = 7 * 24 * 60;
const SEEDS: readonly (number | string)[] = [0, 1, 2, 3, 42, 1337, 2 ** 31 - 1, -5, 'tianjin', 'binhai', 'e2e-run', ''];

/**
 * What each device type should report in real life, much tighter than the catalogue's
 * physical ranges (which the models clamp to, so a runaway model would go unnoticed there).
 */
const PLAUSIBLE: Readonly<Record<DeviceKind, Readonly<Record<string, readonly [number, number]>>>> = {
  'air-quality-station': {
    pm2_5: [2, 1000], pm10: [3, 2000], no2: [3, 250], so2: [2, 100], o3: [2, 350], co: [0.1, 10],
    temperature: [-25, 42], humidity: [5, 100], wind_speed: [0, 25], noise_laeq: [35, 80],
  },
  'supply-monitor': { pressure: [250, 400], flow: [0, 2000], turbidity: [0, 1], chlorine_residual: [0.3, 0.8], ph: [7, 8] },
  'hydrology-station': {
    level: [0.5, 8], flow: [0, 100_000], turbidity: [1, 400], ph: [6.5, 8.8], cod: [3, 80], ammonia_nitrogen: [0.05, 5],
  },
  'feeder-10kv': {
    voltage: [10_000, 11_000], current: [20, 600], active_power: [300, 8000], reactive_power: [0, 5000],
    power_factor: [0.85, 0.99], frequency: [49.95, 50.05], energy_import: [1e4, 1e10],
  },
  'transformer-lv': {
    voltage: [207, 253], current: [10, 1000], active_power: [20, 600], reactive_power: [0, 400],
    power_factor: [0.85, 0.99], frequency: [49.95, 50.05], energy_import: [1e4, 1e9],
  },
  'gas-monitor': { gas_lel: [0, 100], h2s: [0, 100], smoke_alarm: [0, 1] },
  'manhole-monitor': { cover_open: [0, 1], gas_lel: [0, 60], h2s: [0, 200] },
  'bridge-monitor': { strain: [-1000, 1000], vibration: [0.01, 10], tilt: [-0.5, 0.5] },
};

/** A different week of the year per seed, so winter haze and summer storms are both covered. */
function weekStart(index: number): number {
  return Date.UTC(2025, 0, 1) + ((index * 31) % 365) * 86_400_000;
}

describe.each(DEVICE_KIND_NAMES)('%s model', (kind) => {
  it(`stays inside the catalogue's and plausible ranges for a week at 1-minute steps, ${SEEDS.length} seeds`, () => {
    const problems: string[] = [];
    for (const [index, seed] of SEEDS.entries()) {
      const model = createDeviceModel(kind, { seed, deviceId: `dev-${index}` });
      expect(model.domain).toBe(DEVICE_KINDS[kind].domain);
      const start = weekStart(index);
      for (let minute = 0; minute < WEEK_MINUTES; minute += 1) {
        const atMs = start + minute * 60_000;
        const metrics = model.sample(atMs);
        const keys = Object.keys(metrics);
        if (keys.join() !== model.metrics.join()) problems.push(`${new Date(atMs).toISOString()}: keys ${keys.join()}`);
        for (const [key, value] of Object.entries(metrics)) {
          const definition = METRIC_CATALOGUE.get(key);
          const [low, high] = PLAUSIBLE[kind][key] ?? [NaN, NaN];
          const ok =
            value >= low && value <= high &&
            definition !== undefined && definition.domain === model.domain && Number.isFinite(value) &&
            value >= definition.min && value <= definition.max &&
            // Rounded to a sensor's resolution: no binary float tails such as 0.30000000000000004.
            /^-?\d+(\.\d{1,3})?$/.test(String(value)) &&
            (definition.kind !== 'state' || value === 0 || value === 1);
          if (!ok) problems.push(`seed ${String(seed)} ${new Date(atMs).toISOString()}: ${key} = ${value}`);
        }
        if (problems.length > 10) break;
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('reproducibility', () => {
  const instants = Array.from({ length: 200 }, (_, i) => Date.UTC(2025, 6, 1) + ((i * 7919) % 1000) * 97_000);

  it.each(DEVICE_KIND_NAMES)('%s: same seed and device give the same values, in any sampling order', (kind) => {
    const a = createDeviceModel(kind, { seed: 99, deviceId: 'x-1' });
    const b = createDeviceModel(kind, { seed: 99, deviceId: 'x-1' });
    const forward = instants.map((atMs) => a.sample(atMs));
    const backward = [...instants].reverse().map((atMs) => b.sample(atMs)).reverse();
    expect(backward).toEqual(forward);
  });

  it.each(DEVICE_KIND_NAMES)('%s: another seed or another device gives other values', (kind) => {
    const base = createDeviceModel(kind, { seed: 99, deviceId: 'x-1' });
    const otherSeed = createDeviceModel(kind, { seed: 100, deviceId: 'x-1' });
    const otherDevice = createDeviceModel(kind, { seed: 99, deviceId: 'x-2' });
    const series = (model: typeof base) => JSON.stringify(instants.map((atMs) => model.sample(atMs)));
    expect(series(otherSeed)).not.toBe(series(base));
    expect(series(otherDevice)).not.toBe(series(base));
  });

  it('honours the UTC offset: the same local hour gives the same daily phase', () => {
    const beijing = createDeviceModel('supply-monitor', { seed: 5, deviceId: 'w', utcOffsetMinutes: 480 });
    const utc = createDeviceModel('supply-monitor', { seed: 5, deviceId: 'w', utcOffsetMinutes: 0 });
    // 03:00 local is the pressure high in both; 07:30 local the low.
    const night = (model: typeof utc, offsetHours: number) => model.sample(Date.UTC(2025, 3, 2, 3 - offsetHours)).pressure ?? 0;
    const morning = (model: typeof utc, offsetHours: number) => model.sample(Date.UTC(2025, 3, 2, 7 - offsetHours, 30)).pressure ?? 0;
    expect(night(beijing, 8)).toBeGreaterThan(morning(beijing, 8) + 15);
    expect(night(utc, 0)).toBeGreaterThan(morning(utc, 0) + 15);
  });
});
