import { describe, expect, it } from 'vitest';
import { BUILTIN_METRICS } from './builtin-metrics.js';
import { METRIC_KEY_PATTERN } from './catalogue-extension.js';
import { BUILTIN_CATALOGUE, buildCatalogue, CatalogueError, DOMAINS } from './metric-catalogue.js';

const catalogue = BUILTIN_CATALOGUE;

function convert(name: string, unit: string, value: number): number | undefined {
  const definition = catalogue.find(name);
  if (definition === undefined) throw new Error(`no metric ${name}`);
  return catalogue.conversion(definition, unit)?.convert(value);
}

describe('the built-in metric catalogue', () => {
  it('has at least 40 metrics over the four domains, each well formed', () => {
    expect(catalogue.metrics.size).toBeGreaterThanOrEqual(40);
    for (const domain of DOMAINS) {
      expect([...catalogue.metrics.values()].filter((m) => m.domain === domain).length, domain).toBeGreaterThanOrEqual(10);
    }
    for (const metric of catalogue.metrics.values()) {
      expect(metric.key).toMatch(METRIC_KEY_PATTERN);
      expect(metric.min, metric.key).toBeLessThan(metric.max);
      if (metric.kind === 'state') expect([metric.min, metric.max, metric.unit], metric.key).toEqual([0, 1, '1']);
      expect(Object.hasOwn(catalogue.units, metric.unit), `${metric.key} unit ${metric.unit}`).toBe(true);
      for (const unit of metric.units) expect(Object.hasOwn(catalogue.units, unit.unit), `${metric.key} unit ${unit.unit}`).toBe(true);
    }
  });

  it('has counters (energy, rainfall, volume) and states (alarms, covers)', () => {
    const kinds = (kind: string) => [...catalogue.metrics.values()].filter((m) => m.kind === kind).map((m) => m.key);
    expect(kinds('counter')).toEqual(expect.arrayContaining(['energy_import', 'energy_export', 'rainfall', 'volume_total']));
    expect(kinds('state')).toEqual(expect.arrayContaining(['smoke_alarm', 'cover_open', 'water_immersion', 'breaker_closed']));
  });

  it.each([
    // HJ 212-2017 Appendix B pollutant codes.
    ['a34004', 'pm2_5'], ['a34002', 'pm10'], ['a34005', 'pm1'], ['a21026', 'so2'], ['a21004', 'no2'], ['a05024', 'o3'],
    ['a21005', 'co'], ['a21028', 'h2s'], ['a01001', 'temperature'], ['a01002', 'humidity'], ['a01006', 'air_pressure'],
    ['a01007', 'wind_speed'], ['a01008', 'wind_direction'], ['w01001', 'ph'], ['w01018', 'cod'], ['w21003', 'ammonia_nitrogen'],
    ['w01009', 'dissolved_oxygen'], ['w01010', 'water_temperature'], ['w01014', 'conductivity'], ['w21011', 'total_phosphorus'],
    ['w21001', 'total_nitrogen'],
    // Vendor spellings, matched without regard to case.
    ['PM2.5', 'pm2_5'], ['pm25', 'pm2_5'], ['PM25', 'pm2_5'], ['A34004', 'pm2_5'], ['LAeq', 'noise_laeq'], ['NH3-N', 'ammonia_nitrogen'],
    ['pm2_5', 'pm2_5'], ['PF', 'power_factor'],
  ])('finds %s as %s', (name, key) => {
    expect(catalogue.find(name)?.key).toBe(key);
  });

  it('does not guess names it does not have', () => {
    for (const name of ['pm2', 'PM 2.5', 'a34003', 'unobtainium', '__proto__', 'constructor', '']) expect(catalogue.find(name)).toBeUndefined();
  });
});

describe('unit conversions, exact on the decimal sent', () => {
  // Expected values worked out by hand from the definitions (1 bar = 100 kPa, 1 °F step = 5/9 K, …).
  it.each([
    ['pm2_5', 'mg/m3', 0.035, 35], ['pm2_5', 'mg/m³', 0.0351, 35.1], ['pm2_5', 'MG/M3', 1.1, 1100], ['PM2.5', 'µg/m³', 35, 35],
    ['pm2_5', 'μg/m3', 35, 35], ['pm10', 'ng/m3', 61000, 61], ['co', 'ug/m3', 800, 0.8],
    ['temperature', '°F', 98.6, 37], ['temperature', '℉'.normalize('NFKC'), 32, 0], ['temperature', 'degF', -40, -40],
    ['temperature', 'K', 300, 26.85], ['temperature', '℃', 21.5, 21.5], ['temperature', 'Cel', -12.3, -12.3],
    ['humidity', '%RH', 55, 55], ['humidity', '1', 0.55, 55],
    ['wind_speed', 'km/h', 36, 10], ['air_pressure', 'hPa', 1013.25, 101.325], ['air_pressure', 'Pa', 101325, 101.325],
    ['pressure', 'MPa', 0.35, 350], ['pressure', 'bar', 1.1, 110], ['pressure', 'mbar', 2500, 250], ['pressure', 'mH2O', 10, 98.0665],
    ['level', 'cm', 250, 2.5], ['level', 'mm', 1200, 1.2], ['level', 'ft', 10, 3.048],
    ['flow', 'L/s', 10, 36], ['flow', 'm³/s', 1, 3600], ['flow', 'L/min', 120, 7.2], ['flow', 'm3/d', 240, 10],
    ['volume_total', 'L', 1500, 1.5], ['chlorine_residual', 'ug/L', 500, 0.5], ['conductivity', 'mS/cm', 1.2, 1200],
    ['conductivity', 'S/m', 0.05, 500], ['voltage', 'kV', 10.5, 10500], ['current', 'mA', 250, 0.25],
    ['active_power', 'W', 1500, 1.5], ['active_power', 'MW', 2.5, 2500], ['apparent_power', 'VA', 630000, 630],
    ['energy_import', 'Wh', 1234, 1.234], ['energy_import', 'kWh', 7.7, 7.7], ['energy_import', 'MWh', 2, 2000],
    ['energy_import', 'MJ', 3.6, 1], ['energy_import', 'J', 3600000, 1], ['energy_export', 'KWH', 12.5, 12.5],
    ['reactive_energy_import', 'varh', 500, 0.5], ['power_factor', '%', 95, 0.95], ['voltage_thd', '1', 0.031, 3.1],
    ['h2s', 'ppb', 500, 0.5], ['strain', '1', 0.000125, 125], ['vibration', 'm/s', 0.0025, 2.5], ['vibration', 'in/s', 0.1, 2.54],
    ['oxygen', 'ppm', 209000, 20.9], ['displacement', 'cm', 1.5, 15], ['crack_width', 'µm', 150, 0.15],
  ])('%s: %s %s → %s', (metric, unit, value, expected) => {
    expect(convert(metric, unit, value)).toBe(expected);
  });

  // Conventional factors that are not decimal: compared with the factor computed here.
  it.each([
    ['no2', 'ppb', 10, (10 * 46.0055) / 24.45], ['so2', 'ppb', 3, (3 * 64.066) / 24.45], ['o3', 'ppm', 0.1, (0.1 * 47.998 * 1000) / 24.45],
    ['co', 'ppm', 1, 28.01 / 24.45], ['h2s', 'mg/m3', 1, 24.45 / 34.081], ['wind_speed', 'kn', 10, (10 * 1852) / 3600],
    ['pressure', 'psi', 14.5, (14.5 * 0.45359237 * 9.80665) / 0.0254 ** 2 / 1000], ['air_pressure', 'mmHg', 760, (760 * 133.322387415) / 1000],
  ])('%s: %s %s ≈ %s', (metric, unit, value, expected) => {
    expect(convert(metric, unit, value)).toBeCloseTo(expected, 9);
  });

  // Every accepted unit of every metric, in every registered spelling, against the same
  // conversion done here in plain floating point: equal to 12 significant digits.
  const floatOf = (fraction: string) => fraction.split('/').map(Number).reduce((a, b) => a / b);
  const everyConversion = [...catalogue.metrics.values()].flatMap((metric) =>
    metric.units.flatMap((unit) => {
      const spelling = catalogue.units[unit.unit]!;
      return [unit.unit, spelling.symbol, ...spelling.spellings].filter((text) => text !== '').map((text) => [metric.key, text, unit.factor, unit.offset] as const);
    }));

  it(`covers ${everyConversion.length} unit spellings`, () => {
    expect(everyConversion.length).toBeGreaterThan(150);
  });

  it.each(everyConversion)('%s in %s: (x + offset) × factor', (metric, unit, factor, offset) => {
    for (const value of [12.5, -0.75, 1000]) {
      const expected = (value + floatOf(offset)) * floatOf(factor);
      const converted = convert(metric, unit, value);
      expect(converted).toBeDefined();
      expect(Math.abs(converted! - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-12 + 1e-12);
    }
  });

  it('takes every spelling of a canonical unit as that unit, unchanged', () => {
    for (const metric of catalogue.metrics.values()) {
      const spelling = catalogue.units[metric.unit]!;
      for (const text of [metric.unit, metric.symbol, spelling.symbol, ...spelling.spellings].filter((t) => t !== '')) {
        expect(convert(metric.key, text, 0.1 + 0.2), `${metric.key} ${text}`).toBe(0.30000000000000004);
      }
    }
  });

  it.each([
    ['pm2_5', 'ppm'], ['pm2_5', 'mg/L'], ['temperature', 'kPa'], ['pressure', 'mpa'], ['active_power', 'mW'],
    ['active_power', 'mw'], ['energy_import', 'kW'], ['smoke_alarm', '%'], ['ph', 'mg/L'], ['flow', 'l/h'],
  ])('%s does not accept %s', (metric, unit) => {
    expect(convert(metric, unit, 1)).toBeUndefined();
  });
});

describe('building a catalogue', () => {
  const base = BUILTIN_METRICS.find((metric) => metric.key === 'pm2_5')!;

  it('refuses a name two metrics would share, a unit two conversions would share, and bad factors', () => {
    const clash = { ...base, key: 'pm_fine', aliases: ['PM25'] };
    const twice = { ...base, key: 'pm_other', aliases: [], units: [{ unit: 'mg/m3', factor: '1000', offset: '0' }, { unit: 'mg/m3', factor: '1', offset: '0' }] };
    const bad = { ...base, key: 'pm_bad', aliases: [], units: [{ unit: 'mg/m3', factor: 'thousand', offset: '0' }] };
    expect(() => buildCatalogue([base, clash, twice, bad])).toThrow(CatalogueError);
    try {
      buildCatalogue([base, clash, twice, bad]);
    } catch (error) {
      expect((error as CatalogueError).problems).toEqual([
        'metric pm_fine: name "PM25" is also pm2_5',
        'metric pm_other: unit mg/m3 is listed more than once',
        'metric pm_bad unit mg/m3 factor: "thousand" is not an exact number or fraction',
      ]);
    }
  });
});
