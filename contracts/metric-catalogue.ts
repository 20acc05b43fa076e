/**
 * The metric catalogue: every metric the platform stores, keyed by canonical key.
 * A reading whose metric is not here, or whose value is outside the physical range,
 * is quarantined rather than stored as good (DESIGN.md, "Canonical reading").
 */

export const DOMAINS = ['environment', 'water', 'grid', 'safety'] as const;
export type Domain = (typeof DOMAINS)[number];

/** gauge: a level at an instant; counter: a running total; state: 0/1 (alarm, open). */
export type MetricKind = 'gauge' | 'counter' | 'state';

export interface MetricDefinition {
  key: string;
  name: string;
  domain: Domain;
  /** Canonical unit as a UCUM-style code (`ug/m3`, `Cel`, `kPa`). */
  unit: string;
  /** Display symbol (`µg/m³`, `°C`). */
  symbol: string;
  kind: MetricKind;
  /** Inclusive physical range; values outside it are quarantined. */
  min: number;
  max: number;
}

type Row = [key: string, name: string, unit: string, symbol: string, kind: MetricKind, min: number, max: number];

// Ranges are what a sensor of the kind can physically report, not alarm levels:
// a PM2.5 of 900 µg/m³ is a bad day in winter, 90 000 is a broken sensor.
const ROWS: Readonly<Record<Domain, Row[]>> = {
  environment: [
    ['pm2_5', 'PM2.5 mass concentration', 'ug/m3', 'µg/m³', 'gauge', 0, 2000],
    ['pm10', 'PM10 mass concentration', 'ug/m3', 'µg/m³', 'gauge', 0, 5000],
    ['no2', 'Nitrogen dioxide', 'ug/m3', 'µg/m³', 'gauge', 0, 5000],
    ['so2', 'Sulphur dioxide', 'ug/m3', 'µg/m³', 'gauge', 0, 10000],
    ['o3', 'Ozone', 'ug/m3', 'µg/m³', 'gauge', 0, 2000],
    ['co', 'Carbon monoxide', 'mg/m3', 'mg/m³', 'gauge', 0, 200],
    ['noise_laeq', 'A-weighted equivalent sound level', 'dB', 'dB(A)', 'gauge', 0, 150],
    ['temperature', 'Air temperature', 'Cel', '°C', 'gauge', -60, 70],
    ['humidity', 'Relative humidity', '%', '%', 'gauge', 0, 100],
    ['wind_speed', 'Wind speed', 'm/s', 'm/s', 'gauge', 0, 90],
  ],
  water: [
    ['flow', 'Volumetric flow rate', 'm3/h', 'm³/h', 'gauge', -100000, 100000],
    ['pressure', 'Pipe pressure (gauge)', 'kPa', 'kPa', 'gauge', -100, 10000],
    ['level', 'Water level', 'm', 'm', 'gauge', -500, 5000],
    ['turbidity', 'Turbidity', '[NTU]', 'NTU', 'gauge', 0, 4000],
    ['chlorine_residual', 'Free residual chlorine', 'mg/L', 'mg/L', 'gauge', 0, 20],
    ['ph', 'pH', '[pH]', 'pH', 'gauge', 0, 14],
    ['cod', 'Chemical oxygen demand', 'mg/L', 'mg/L', 'gauge', 0, 100000],
    ['ammonia_nitrogen', 'Ammonia nitrogen (NH3-N)', 'mg/L', 'mg/L', 'gauge', 0, 1000],
  ],
  grid: [
    ['voltage', 'Voltage (RMS)', 'V', 'V', 'gauge', 0, 1000000],
    ['current', 'Current (RMS)', 'A', 'A', 'gauge', 0, 100000],
    ['active_power', 'Active power', 'kW', 'kW', 'gauge', -1000000, 1000000],
    ['reactive_power', 'Reactive power', 'kvar', 'kvar', 'gauge', -1000000, 1000000],
    ['power_factor', 'Power factor', '1', '', 'gauge', -1, 1],
    ['frequency', 'Frequency', 'Hz', 'Hz', 'gauge', 40, 70],
    ['energy_import', 'Imported active energy', 'kW.h', 'kWh', 'counter', 0, 1e12],
  ],
  safety: [
    ['gas_lel', 'Combustible gas', '%LEL', '%LEL', 'gauge', 0, 100],
    ['h2s', 'Hydrogen sulphide', '[ppm]', 'ppm', 'gauge', 0, 2000],
    ['smoke_alarm', 'Smoke alarm', '1', '', 'state', 0, 1],
    ['strain', 'Structural strain', '10*-6', 'µε', 'gauge', -100000, 100000],
    ['vibration', 'Vibration velocity', 'mm/s', 'mm/s', 'gauge', 0, 1000],
    ['tilt', 'Tilt angle', 'deg', '°', 'gauge', -90, 90],
    ['cover_open', 'Manhole cover open', '1', '', 'state', 0, 1],
  ],
};

export const METRIC_CATALOGUE: ReadonlyMap<string, MetricDefinition> = new Map(
  DOMAINS.flatMap((domain) =>
    ROWS[domain].map(([key, name, unit, symbol, kind, min, max]): [string, MetricDefinition] => [
      key,
      Object.freeze({ key, name, domain, unit, symbol, kind, min, max }),
    ]),
  ),
);

export function isDomain(value: unknown): value is Domain {
  return typeof value === 'string' && (DOMAINS as readonly string[]).includes(value);
}
