import { describe, expect, it } from 'vitest';
import { createDeviceModel, type DeviceKind, type DeviceModel } from './index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UTC8 = 8 * HOUR;
/** Monday 6 January 2025, 00:00 in Tianjin. */
const WINTER_MONDAY = Date.UTC(2025, 0, 6) - UTC8;
const SUMMER_MONDAY = Date.UTC(2025, 6, 7) - UTC8;

function models(kind: DeviceKind, count: number, seed: number | string = 'realism'): DeviceModel[] {
  return Array.from({ length: count }, (_, i) => createDeviceModel(kind, { seed, deviceId: `${kind}-${i}` }));
}

function metric(model: DeviceModel, key: string, atMs: number): number {
  const value = model.sample(atMs)[key];
  if (value === undefined) throw new Error(`${model.kind} has no ${key}`);
  return value;
}

/** Mean of `key` over the week's days at local clock time `hour` (weekdays only when asked). */
function meanAtHour(model: DeviceModel, key: string, weekStart: number, hour: number, weekdaysOnly = false): number {
  const days = weekdaysOnly ? [0, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5, 6];
  return days.reduce((sum, day) => sum + metric(model, key, weekStart + day * DAY + hour * HOUR), 0) / days.length;
}

function correlation(xs: number[], ys: number[]): number {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const dy = (ys[i] ?? 0) - my;
    sxy += (x - mx) * dy;
    sxx += (x - mx) ** 2;
    syy += dy ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('environment: air-quality station', () => {
  const stations = models('air-quality-station', 10);

  it('reports PM10 at least PM2.5, always', () => {
    for (const station of stations) {
      for (let t = WINTER_MONDAY; t < WINTER_MONDAY + 7 * DAY; t += 5 * MINUTE) {
        const { pm2_5: pm25 = NaN, pm10 = NaN } = station.sample(t);
        expect(pm10).toBeGreaterThanOrEqual(pm25);
      }
    }
  });

  it('has winter haze: PM2.5 higher in January than in July', () => {
    // One station's clean January week can beat a hazy July one; the fleet's mean over days decides.
    const mean = (start: number) => {
      let sum = 0;
      for (let week = 0; week < 4; week += 1) {
        for (const station of stations) sum += meanAtHour(station, 'pm2_5', start + week * 7 * DAY, 12);
      }
      return sum / (4 * stations.length);
    };
    expect(mean(WINTER_MONDAY)).toBeGreaterThan(1.5 * mean(SUMMER_MONDAY));
  });

  it('peaks NO2 at the weekday morning rush hour and O3 in the summer afternoon', () => {
    for (const station of stations) {
      expect(meanAtHour(station, 'no2', WINTER_MONDAY, 8, true)).toBeGreaterThan(meanAtHour(station, 'no2', WINTER_MONDAY, 3, true));
      expect(meanAtHour(station, 'o3', SUMMER_MONDAY, 15)).toBeGreaterThan(2 * meanAtHour(station, 'o3', SUMMER_MONDAY, 6));
      expect(meanAtHour(station, 'noise_laeq', WINTER_MONDAY, 18, true)).toBeGreaterThan(meanAtHour(station, 'noise_laeq', WINTER_MONDAY, 3, true) + 5);
    }
  });

  it('makes temperature and humidity anticorrelated and warmest in the afternoon', () => {
    for (const station of stations) {
      const temperatures: number[] = [];
      const humidities: number[] = [];
      for (let t = SUMMER_MONDAY; t < SUMMER_MONDAY + 7 * DAY; t += HOUR) {
        temperatures.push(metric(station, 'temperature', t));
        humidities.push(metric(station, 'humidity', t));
      }
      expect(correlation(temperatures, humidities)).toBeLessThan(-0.3);
      expect(meanAtHour(station, 'temperature', SUMMER_MONDAY, 15)).toBeGreaterThan(meanAtHour(station, 'temperature', SUMMER_MONDAY, 5) + 5);
    }
  });
});

describe('water', () => {
  it('raises supply pressure at night and lowers it at the morning demand peak', () => {
    for (const monitor of models('supply-monitor', 20)) {
      const night = meanAtHour(monitor, 'pressure', WINTER_MONDAY, 3);
      const morning = meanAtHour(monitor, 'pressure', WINTER_MONDAY, 7.5, true);
      expect(night - morning).toBeGreaterThan(25);
      expect(meanAtHour(monitor, 'flow', WINTER_MONDAY, 7.5, true)).toBeGreaterThan(2.5 * meanAtHour(monitor, 'flow', WINTER_MONDAY, 3));
    }
  });

  it('shows summer storms in river levels, rarely', () => {
    const stations = models('hydrology-station', 10);
    let stormHours = 0;
    let hours = 0;
    for (const station of stations) {
      const base = metric(station, 'level', Date.UTC(2025, 2, 1));
      for (let t = Date.UTC(2025, 6, 1); t < Date.UTC(2025, 8, 1); t += HOUR) {
        hours += 1;
        if (metric(station, 'level', t) > base + 0.6) stormHours += 1;
      }
    }
    expect(stormHours).toBeGreaterThan(0);
    expect(stormHours / hours).toBeLessThan(0.3);
  });
});

describe('grid', () => {
  it.each(['feeder-10kv', 'transformer-lv'] as const)('%s: energy_import never decreases and integrates active power', (kind) => {
    for (const meter of models(kind, 10)) {
      let previous = -Infinity;
      let integralKwh = 0;
      let previousPower: number | undefined;
      const start = WINTER_MONDAY;
      for (let t = start; t <= start + 7 * DAY; t += MINUTE) {
        const { energy_import: energy = NaN, active_power: power = NaN } = meter.sample(t);
        expect(energy).toBeGreaterThanOrEqual(previous);
        previous = energy;
        if (previousPower !== undefined) integralKwh += ((previousPower + power) / 2) * (MINUTE / HOUR);
        previousPower = power;
      }
      // At 1 s steps too: the register must not step back between close readings.
      for (let t = start + 18 * HOUR, last = -Infinity; t < start + 18 * HOUR + 10 * MINUTE; t += 1000) {
        const energy = metric(meter, 'energy_import', t);
        expect(energy).toBeGreaterThanOrEqual(last);
        last = energy;
      }
      const registered = metric(meter, 'energy_import', start + 7 * DAY) - metric(meter, 'energy_import', start);
      expect(Math.abs(registered - integralKwh) / integralKwh).toBeLessThan(0.05);
    }
  });

  it('follows the load curve, keeps the power factor and shares one grid frequency', () => {
    const meters = [...models('feeder-10kv', 3), ...models('transformer-lv', 3)];
    const meanOver = (meter: DeviceModel, hours: number[]) =>
      hours.reduce((sum, hour) => sum + meanAtHour(meter, 'active_power', WINTER_MONDAY, hour), 0) / hours.length;
    for (const meter of meters) {
      expect(meanOver(meter, [10, 12, 14, 16, 18, 20])).toBeGreaterThan(1.25 * meanOver(meter, [2, 3, 4, 5]));
      for (let t = WINTER_MONDAY; t < WINTER_MONDAY + DAY; t += 13 * MINUTE) {
        const { active_power: p = NaN, reactive_power: q = NaN, power_factor: pf = NaN } = meter.sample(t);
        // Reported P, Q and PF agree with each other (PF = P / S), as a real meter's do.
        expect(p / Math.hypot(p, q)).toBeCloseTo(pf, 2);
      }
    }
    for (let t = WINTER_MONDAY; t < WINTER_MONDAY + DAY; t += 17 * MINUTE) {
      const frequencies = new Set(meters.map((meter) => metric(meter, 'frequency', t)));
      expect(frequencies.size).toBe(1);
    }
  });
});

describe('safety', () => {
  it('keeps combustible gas at 0–3 %LEL with rare leak excursions', () => {
    const monitors = models('gas-monitor', 50);
    let minutes = 0;
    let excursionMinutes = 0;
    let highest = 0;
    let devicesWithLeak = 0;
    for (const monitor of monitors) {
      let leaked = false;
      for (let t = WINTER_MONDAY; t < WINTER_MONDAY + 7 * DAY; t += MINUTE) {
        const lel = metric(monitor, 'gas_lel', t);
        minutes += 1;
        highest = Math.max(highest, lel);
        if (lel > 3) {
          excursionMinutes += 1;
          leaked = true;
        }
      }
      if (leaked) devicesWithLeak += 1;
    }
    expect(excursionMinutes / minutes).toBeGreaterThan(0);
    expect(excursionMinutes / minutes).toBeLessThan(0.01);
    expect(highest).toBeGreaterThanOrEqual(8); // a real leak, past a first alarm threshold
    expect(devicesWithLeak).toBeGreaterThan(0);
    expect(devicesWithLeak).toBeLessThan(monitors.length / 2);
  });

  it('raises smoke alarms and open covers rarely, as 0/1 states', () => {
    const counts = { smoke: 0, cover: 0, samples: 0 };
    const gas = models('gas-monitor', 40);
    const manholes = models('manhole-monitor', 40);
    for (let t = WINTER_MONDAY; t < WINTER_MONDAY + 28 * DAY; t += 5 * MINUTE) {
      counts.samples += 40;
      for (const monitor of gas) counts.smoke += metric(monitor, 'smoke_alarm', t);
      for (const manhole of manholes) counts.cover += metric(manhole, 'cover_open', t);
    }
    expect(counts.smoke).toBeGreaterThan(0);
    expect(counts.cover).toBeGreaterThan(0);
    expect(counts.smoke / counts.samples).toBeLessThan(0.005);
    expect(counts.cover / counts.samples).toBeLessThan(0.02);
  });

  it('moves bridge strain with temperature and vibration with traffic', () => {
    for (const bridge of models('bridge-monitor', 5)) {
      const winter = meanAtHour(bridge, 'strain', WINTER_MONDAY, 4);
      const summer = meanAtHour(bridge, 'strain', SUMMER_MONDAY, 4);
      expect(Math.abs(summer - winter)).toBeGreaterThan(60);
      expect(meanAtHour(bridge, 'vibration', WINTER_MONDAY, 8, true)).toBeGreaterThan(3 * meanAtHour(bridge, 'vibration', WINTER_MONDAY, 3, true));
    }
  });
});
