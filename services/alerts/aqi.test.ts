import { describe, expect, it } from 'vitest';
import { aqiCategory, computeAqi, iaqiOf, realTimeInputs, type HourlyValue } from './aqi.js';

// Worked examples by hand from HJ 633-2012 Table 1 and formula (1):
// IAQI = (IAQI_Hi − IAQI_Lo) / (BP_Hi − BP_Lo) × (C − BP_Lo) + IAQI_Lo, rounded up.
describe('HJ 633-2012 individual air quality index (IAQI)', () => {
  it.each([
    // PM2.5 24-h 80 µg/m³ lies in [75, 115] → IAQI [100, 150]: 50/40 × (80 − 75) + 100 = 106.25 → 107
    ['pm2_5_24h', 80, 107],
    // PM10 24-h 120 in [50, 150] → [50, 100]: 50/100 × 70 + 50 = 85
    ['pm10_24h', 120, 85],
    // NO2 1-h 150 in [100, 200] → [50, 100]: 50/100 × 50 + 50 = 75
    ['no2_1h', 150, 75],
    // NO2 24-h 100 in [80, 180] → [100, 150]: 50/100 × 20 + 100 = 110
    ['no2_24h', 100, 110],
    // CO 1-h 3 mg/m³ in [0, 5] → [0, 50]: 50/5 × 3 = 30
    ['co_1h', 3, 30],
    // CO 24-h 5 mg/m³ in [4, 14] → [100, 150]: 50/10 × 1 + 100 = 105
    ['co_24h', 5, 105],
    // O3 1-h 180 in [160, 200] → [50, 100]: 50/40 × 20 + 50 = 75
    ['o3_1h', 180, 75],
    // O3 8-h 300 in [265, 800] → [200, 300]: 100/535 × 35 + 200 = 206.54… → 207
    ['o3_8h', 300, 207],
    // SO2 1-h 20 in [0, 150] → [0, 50]: 50/150 × 20 = 6.67 → 7
    ['so2_1h', 20, 7],
    // SO2 24-h 500 in [475, 800] → [150, 200]: 50/325 × 25 + 150 = 153.85 → 154
    ['so2_24h', 500, 154],
    // Exactly on a limit: PM2.5 75 → 100; zero → 0
    ['pm2_5_24h', 75, 100],
    ['pm2_5_24h', 0, 0],
  ] as const)('%s at %d gives %d', (item, concentration, expected) => {
    expect(iaqiOf(item, concentration)).toEqual({ iaqi: expected });
  });

  it('reports 500 beyond the top of the table', () => {
    expect(iaqiOf('pm2_5_24h', 600)).toEqual({ iaqi: 500, beyondScale: true });
  });

  it('has no IAQI where Table 1 stops (SO2 1-h > 800, O3 8-h > 800)', () => {
    expect(iaqiOf('so2_1h', 801)).toBeUndefined();
    expect(iaqiOf('o3_8h', 801)).toBeUndefined();
    expect(() => iaqiOf('pm10_24h', -1)).toThrow(RangeError);
  });
});

describe('HJ 633-2012 AQI, primary pollutant and category', () => {
  it('takes the maximum IAQI and names the primary pollutant (a real-time report)', () => {
    // IAQIs from the table above: PM2.5 107, PM10 85, NO2 75, CO 30, O3 75, SO2 7 → AQI 107.
    const result = computeAqi({ pm2_5_24h: 80, pm10_24h: 120, no2_1h: 150, co_1h: 3, o3_1h: 180, so2_1h: 20 });
    expect(result?.aqi).toBe(107);
    expect(result?.primaryPollutants).toEqual(['pm2_5_24h']);
    expect(result?.exceeding).toEqual(['pm2_5_24h']);
    expect(result?.category).toEqual({ level: 3, name: 'Lightly polluted', nameZh: '轻度污染', colour: 'orange', colourZh: '橙色', hex: '#ff7e00' });
  });

  it('names every pollutant tied at the AQI, and none when AQI ≤ 50', () => {
    // PM2.5 75 → 100 and PM10 150 → 100: both primary; AQI 100 is still 良 (Good), nothing exceeds 100.
    const tie = computeAqi({ pm2_5_24h: 75, pm10_24h: 150 });
    expect(tie?.primaryPollutants).toEqual(['pm10_24h', 'pm2_5_24h']);
    expect(tie?.exceeding).toEqual([]);
    expect(tie?.category.level).toBe(2);
    // PM2.5 35 → 50: 优, no primary pollutant.
    const clean = computeAqi({ pm2_5_24h: 35, so2_1h: 20 });
    expect(clean?.aqi).toBe(50);
    expect(clean?.primaryPollutants).toEqual([]);
  });

  it('uses the 24-h SO2 IAQI when the 1-h SO2 is above 800 (Table 1 note 2)', () => {
    // SO2 24-h 500 → 154 (above); the 1-h 900 has no IAQI of its own.
    const result = computeAqi({ so2_1h: 900, so2_24h: 500 });
    expect(result?.items.find((entry) => entry.item === 'so2_1h')).toMatchObject({ iaqi: 154, substitutedBy: 'so2_24h' });
    expect(result?.aqi).toBe(154);
  });

  it('uses the 1-h O3 IAQI when the 8-h O3 is above 800 (Table 1 note 3)', () => {
    // O3 1-h 900 in [800, 1000] → [300, 400]: 100/200 × 100 + 300 = 350.
    const result = computeAqi({ o3_8h: 900, o3_1h: 900 });
    expect(result?.items.map((entry) => [entry.item, entry.iaqi])).toEqual([['o3_1h', 350], ['o3_8h', 350]]);
    expect(result?.category.level).toBe(6);
    expect(computeAqi({ o3_8h: 900 })).toBeUndefined();
  });

  it.each([[0, 1], [50, 1], [51, 2], [100, 2], [101, 3], [150, 3], [151, 4], [200, 4], [201, 5], [300, 5], [301, 6], [500, 6]])(
    'AQI %d is category %d (Table 2)', (aqi, level) => {
      expect(aqiCategory(aqi).level).toBe(level);
    },
  );
});

describe('real-time report inputs from hourly rollups', () => {
  const hour = 3_600_000;
  const end = Date.UTC(2026, 10, 21, 12);
  const series = (count: number, valueAt: (i: number) => number): HourlyValue[] =>
    Array.from({ length: count }, (_, i) => ({ hourStartMs: end - (count - 1 - i) * hour, value: valueAt(i) }));

  it('averages 8 hours of O3 and 24 hours of particles, and needs enough hours', () => {
    const hourly = new Map([
      // O3: 100, 110, …, 170 → 8-h mean 135; the last hour is 170.
      ['o3', series(8, (i) => 100 + 10 * i)],
      ['pm2_5', series(24, () => 80)],
      // 19 hours of PM10: fewer than the 20 GB 3095-2012 requires for a 24-h average.
      ['pm10', series(19, () => 120)],
      // An hour outside the window does not count.
      ['no2', [{ hourStartMs: end - hour, value: 150 }]],
    ]);
    expect(realTimeInputs(hourly, end)).toEqual({ o3_1h: 170, o3_8h: 135, pm2_5_24h: 80 });
  });
});
