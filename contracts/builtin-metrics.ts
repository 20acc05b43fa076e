import type { AcceptedUnit, Domain, MetricDefinition, MetricKind } from './metric-catalogue.js';

/**
 * The built-in metrics of the four domains (DESIGN.md). Ranges are what a sensor of the
 * kind can physically report, not alarm levels: a PM2.5 of 900 µg/m³ is a bad day in
 * winter, 90 000 is a broken sensor.
 *
 * Aliases include HJ 212-2017 pollutant codes (Appendix B); an alias names the metric,
 * never a unit, so a value sent without a unit is in the canonical unit. Gas conversions
 * between ppb/ppm and mass concentration are at the reference state of 25 °C and
 * 101.325 kPa (GB 3095-2012 amendment 2018), molar volume 24.45 L/mol:
 * µg/m³ = ppb × M / 24.45, with M in g/mol.
 */

type Unit = [unit: string, factor: string, offset?: string];

function metric(
  domain: Domain, key: string, name: string, unit: string, symbol: string, kind: MetricKind,
  range: [min: number, max: number], aliases: string[] = [], units: Unit[] = [],
): MetricDefinition {
  const accepted: AcceptedUnit[] = units.map(([code, factor, offset = '0']) => ({ unit: code, factor, offset }));
  return { key, name, domain, unit, symbol, kind, min: range[0], max: range[1], aliases, units: accepted };
}

/** Molar-mass conversions of a gas whose canonical unit is µg/m³. */
const gasInMicrograms = (molarMass: string): Unit[] => [
  ['mg/m3', '1000'], ['[ppb]', `${molarMass}/24.45`], ['[ppm]', `${molarMass}/0.02445`],
];
const particles: Unit[] = [['mg/m3', '1000'], ['ng/m3', '1/1000']];
const celsius: Unit[] = [['[degF]', '5/9', '-32'], ['K', '1', '-273.15']];
const milligramsPerLitre: Unit[] = [['ug/L', '1/1000']];
const energy: Unit[] = [['W.h', '1/1000'], ['MW.h', '1000'], ['J', '1/3600000'], ['kJ', '1/3600'], ['MJ', '5/18']];
const millimetres: Unit[] = [['um', '1/1000'], ['cm', '10'], ['m', '1000']];

type Rest = Parameters<typeof metric> extends [Domain, ...infer R] ? R : never;
const env = (...args: Rest) => metric('environment', ...args);
const water = (...args: Rest) => metric('water', ...args);
const grid = (...args: Rest) => metric('grid', ...args);
const safety = (...args: Rest) => metric('safety', ...args);

export const BUILTIN_METRICS: readonly MetricDefinition[] = [
  env('pm2_5', 'PM2.5 mass concentration', 'ug/m3', 'µg/m³', 'gauge', [0, 2000], ['pm25', 'pm2.5', 'a34004'], particles),
  env('pm10', 'PM10 mass concentration', 'ug/m3', 'µg/m³', 'gauge', [0, 5000], ['pm_10', 'a34002'], particles),
  env('pm1', 'PM1.0 mass concentration', 'ug/m3', 'µg/m³', 'gauge', [0, 2000], ['pm1.0', 'pm1_0', 'a34005'], particles),
  env('no2', 'Nitrogen dioxide', 'ug/m3', 'µg/m³', 'gauge', [0, 5000], ['a21004'], gasInMicrograms('46.0055')),
  env('so2', 'Sulphur dioxide', 'ug/m3', 'µg/m³', 'gauge', [0, 10000], ['a21026'], gasInMicrograms('64.066')),
  env('o3', 'Ozone', 'ug/m3', 'µg/m³', 'gauge', [0, 2000], ['a05024'], gasInMicrograms('47.998')),
  env('co', 'Carbon monoxide', 'mg/m3', 'mg/m³', 'gauge', [0, 200], ['a21005'],
    [['ug/m3', '1/1000'], ['[ppm]', '28.010/24.45'], ['[ppb]', '28.010/24450']]),
  env('noise_laeq', 'A-weighted equivalent sound level', 'dB', 'dB(A)', 'gauge', [0, 150], ['laeq', 'leq', 'noise']),
  env('temperature', 'Air temperature', 'Cel', '°C', 'gauge', [-60, 70], ['temp', 'air_temperature', 'a01001'], celsius),
  env('humidity', 'Relative humidity', '%', '%', 'gauge', [0, 100], ['rh', 'relative_humidity', 'a01002'], [['1', '100']]),
  env('wind_speed', 'Wind speed', 'm/s', 'm/s', 'gauge', [0, 90], ['ws', 'a01007'], [['km/h', '5/18'], ['[kn_i]', '463/900']]),
  env('wind_direction', 'Wind direction (from, clockwise from north)', 'deg', '°', 'gauge', [0, 360], ['wd', 'a01008']),
  env('air_pressure', 'Atmospheric pressure', 'kPa', 'kPa', 'gauge', [50, 110], ['barometric_pressure', 'a01006'],
    [['hPa', '1/10'], ['mbar', '1/10'], ['Pa', '1/1000'], ['bar', '100'], ['mm[Hg]', '133.322387415/1000']]),
  env('rainfall', 'Rainfall total (rain-gauge counter)', 'mm', 'mm', 'counter', [0, 1e7], ['rain', 'precipitation'], [['cm', '10']]),

  water('flow', 'Volumetric flow rate', 'm3/h', 'm³/h', 'gauge', [-100000, 100000], ['flow_rate'],
    [['L/s', '18/5'], ['m3/s', '3600'], ['L/min', '3/50'], ['m3/d', '1/24']]),
  water('volume_total', 'Totalised volume (meter register)', 'm3', 'm³', 'counter', [0, 1e12], ['total_volume', 'cumulative_volume'], [['L', '1/1000']]),
  water('pressure', 'Pipe pressure (gauge)', 'kPa', 'kPa', 'gauge', [-100, 10000], ['pipe_pressure'],
    [['MPa', '1000'], ['bar', '100'], ['mbar', '1/10'], ['hPa', '1/10'], ['Pa', '1/1000'],
      ['[psi]', '4448.2216152605/645.16'], ['m[H2O]', '9.80665']]),
  water('level', 'Water level', 'm', 'm', 'gauge', [-500, 5000], ['water_level'], [['cm', '1/100'], ['mm', '1/1000'], ['[ft_i]', '0.3048']]),
  water('turbidity', 'Turbidity', '[NTU]', 'NTU', 'gauge', [0, 4000], ['turb']),
  water('chlorine_residual', 'Free residual chlorine', 'mg/L', 'mg/L', 'gauge', [0, 20], ['free_chlorine'], milligramsPerLitre),
  water('ph', 'pH', '[pH]', 'pH', 'gauge', [0, 14], ['w01001']),
  water('cod', 'Chemical oxygen demand', 'mg/L', 'mg/L', 'gauge', [0, 100000], ['chemical_oxygen_demand', 'w01018'], milligramsPerLitre),
  water('ammonia_nitrogen', 'Ammonia nitrogen (NH3-N)', 'mg/L', 'mg/L', 'gauge', [0, 1000], ['nh3_n', 'nh3-n', 'w21003'], milligramsPerLitre),
  water('water_temperature', 'Water temperature', 'Cel', '°C', 'gauge', [-5, 100], ['w01010'], celsius),
  water('dissolved_oxygen', 'Dissolved oxygen', 'mg/L', 'mg/L', 'gauge', [0, 50], ['do', 'w01009'], milligramsPerLitre),
  water('conductivity', 'Electrical conductivity', 'uS/cm', 'µS/cm', 'gauge', [0, 200000], ['ec', 'w01014'], [['mS/cm', '1000'], ['S/m', '10000']]),
  water('total_phosphorus', 'Total phosphorus', 'mg/L', 'mg/L', 'gauge', [0, 1000], ['tp', 'w21011'], milligramsPerLitre),
  water('total_nitrogen', 'Total nitrogen', 'mg/L', 'mg/L', 'gauge', [0, 1000], ['tn', 'w21001'], milligramsPerLitre),
  water('pump_running', 'Pump running', '1', '', 'state', [0, 1], ['pump_status', 'pump_on']),

  grid('voltage', 'Voltage (RMS)', 'V', 'V', 'gauge', [0, 1000000], ['volts'], [['kV', '1000'], ['mV', '1/1000']]),
  grid('current', 'Current (RMS)', 'A', 'A', 'gauge', [0, 100000], ['amps'], [['kA', '1000'], ['mA', '1/1000']]),
  grid('active_power', 'Active power', 'kW', 'kW', 'gauge', [-1000000, 1000000], ['p_total'], [['W', '1/1000'], ['MW', '1000']]),
  grid('reactive_power', 'Reactive power', 'kvar', 'kvar', 'gauge', [-1000000, 1000000], ['q_total'], [['var', '1/1000'], ['Mvar', '1000']]),
  grid('apparent_power', 'Apparent power', 'kVA', 'kVA', 'gauge', [0, 1000000], ['s_total'], [['VA', '1/1000'], ['MVA', '1000']]),
  grid('power_factor', 'Power factor', '1', '', 'gauge', [-1, 1], ['pf', 'cos_phi'], [['%', '1/100']]),
  grid('frequency', 'Frequency', 'Hz', 'Hz', 'gauge', [40, 70], ['freq']),
  grid('energy_import', 'Imported active energy', 'kW.h', 'kWh', 'counter', [0, 1e12], ['active_energy_import', 'kwh_import'], energy),
  grid('energy_export', 'Exported active energy', 'kW.h', 'kWh', 'counter', [0, 1e12], ['active_energy_export', 'kwh_export'], energy),
  grid('reactive_energy_import', 'Imported reactive energy', 'kvar.h', 'kvarh', 'counter', [0, 1e12], ['kvarh_import'],
    [['var.h', '1/1000'], ['Mvar.h', '1000']]),
  grid('oil_temperature', 'Transformer top-oil temperature', 'Cel', '°C', 'gauge', [-40, 200], ['top_oil_temperature'], celsius),
  grid('voltage_thd', 'Voltage total harmonic distortion', '%', '%', 'gauge', [0, 100], ['thd_u', 'thdu'], [['1', '100']]),
  grid('breaker_closed', 'Circuit breaker closed', '1', '', 'state', [0, 1], ['breaker_status']),

  safety('gas_lel', 'Combustible gas', '%LEL', '%LEL', 'gauge', [0, 100], ['lel', 'combustible_gas']),
  safety('h2s', 'Hydrogen sulphide', '[ppm]', 'ppm', 'gauge', [0, 2000], ['hydrogen_sulphide', 'hydrogen_sulfide', 'a21028'],
    [['[ppb]', '1/1000'], ['mg/m3', '24.45/34.081']]),
  safety('smoke_alarm', 'Smoke alarm', '1', '', 'state', [0, 1], ['smoke']),
  safety('strain', 'Structural strain', '10*-6', 'µε', 'gauge', [-100000, 100000], [], [['1', '1000000']]),
  safety('vibration', 'Vibration velocity', 'mm/s', 'mm/s', 'gauge', [0, 1000], ['vibration_velocity'], [['m/s', '1000'], ['[in_i]/s', '25.4']]),
  safety('tilt', 'Tilt angle', 'deg', '°', 'gauge', [-90, 90], ['inclination', 'tilt_angle']),
  safety('cover_open', 'Manhole cover open', '1', '', 'state', [0, 1], ['manhole_cover_open']),
  safety('oxygen', 'Oxygen (confined space)', '%', '%vol', 'gauge', [0, 100], ['o2'], [['[ppm]', '1/10000']]),
  safety('displacement', 'Structural displacement', 'mm', 'mm', 'gauge', [-1000, 1000], [], millimetres),
  safety('crack_width', 'Crack width', 'mm', 'mm', 'gauge', [0, 100], [], millimetres),
  safety('settlement', 'Settlement', 'mm', 'mm', 'gauge', [-1000, 1000], ['subsidence'], millimetres),
  safety('water_immersion', 'Water immersion (flood) detected', '1', '', 'state', [0, 1], ['flood', 'water_leak']),
];
