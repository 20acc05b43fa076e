/**
 * Units as devices write them. Every unit has one code (UCUM-style where UCUM has one:
 * `ug/m3`, `Cel`, `kW.h`, `[ppm]`), a display symbol and the other spellings seen in the
 * field (`µg/m³`, `℃`, `kWh`, `PPM`, SenML's `%RH`). Spellings are matched after a light
 * normalisation (Unicode NFKC, µ/μ → u, no spaces, · and * → .), and never by ignoring
 * case in general: `mW` and `MW` differ by a factor of 10⁹, so upper-case spellings are
 * listed one by one where they are unambiguous.
 */

export interface UnitSpelling {
  /** Display symbol. */
  symbol: string;
  /** Other ways devices write it. */
  spellings: readonly string[];
}

/** Normal form used to compare unit strings. */
export function normaliseUnitText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[µμ]/g, 'u')
    .replace(/[\s^]/g, '')
    .replace(/[·*⋅]/g, '.');
}

const u = (symbol: string, ...spellings: string[]): UnitSpelling => ({ symbol, spellings });

/** The built-in unit registry; METRIC_CATALOGUE_FILE may add codes (`units:`). */
export const BUILTIN_UNITS: Readonly<Record<string, UnitSpelling>> = {
  // Concentrations in air (gases at the 25 °C, 101.325 kPa reference state where converted).
  'ug/m3': u('µg/m³', 'UG/M3', 'ugm-3'),
  'mg/m3': u('mg/m³', 'MG/M3', 'mgm-3'),
  'ng/m3': u('ng/m³'),
  '[ppb]': u('ppb', 'PPB', 'ppbv'),
  '[ppm]': u('ppm', 'PPM', 'ppmv'),
  '%LEL': u('%LEL', '%lel', 'LEL%', 'LEL'),
  // Sound.
  dB: u('dB', 'dB(A)', 'dBA', 'db', 'DB'),
  // Temperature.
  Cel: u('°C', 'degC', 'C', 'celsius', 'Celsius'),
  '[degF]': u('°F', 'degF', 'F', 'fahrenheit', 'Fahrenheit'),
  K: u('K', 'kelvin', 'Kelvin'),
  // Ratios.
  '%': u('%', 'percent', 'pct', '%RH', 'RH%'),
  '1': u('', '/', 'ratio'),
  '10*-6': u('µε', 'ue', 'microstrain', 'ustrain'),
  // Speed and angle.
  'm/s': u('m/s', 'mps', 'm.s-1'),
  'km/h': u('km/h', 'kmh', 'kph', 'km/hr'),
  '[kn_i]': u('kn', 'kt', 'knot', 'knots'),
  'mm/s': u('mm/s', 'mm/sec'),
  '[in_i]/s': u('in/s', 'ips'),
  deg: u('°', 'degree', 'degrees'),
  // Pressure.
  Pa: u('Pa'),
  hPa: u('hPa', 'HPa', 'hpa', 'HPA'),
  kPa: u('kPa', 'KPa', 'kpa', 'KPA'),
  MPa: u('MPa', 'Mpa', 'MPA'),
  bar: u('bar', 'Bar', 'BAR'),
  mbar: u('mbar', 'mBar'),
  '[psi]': u('psi', 'PSI'),
  'm[H2O]': u('mH₂O', 'mH2O', 'mWC'),
  'mm[Hg]': u('mmHg', 'mmhg'),
  // Length, volume, flow.
  m: u('m'),
  cm: u('cm'),
  mm: u('mm'),
  um: u('µm'),
  '[ft_i]': u('ft', 'feet'),
  m3: u('m³'),
  L: u('L', 'l'),
  'm3/h': u('m³/h', 'm3/hr', 'cmh'),
  'm3/s': u('m³/s'),
  'm3/d': u('m³/d', 'm3/day'),
  'L/s': u('L/s', 'l/s', 'lps'),
  'L/min': u('L/min', 'l/min', 'lpm'),
  // Water quality.
  'mg/L': u('mg/L', 'mg/l', 'MG/L'),
  'ug/L': u('µg/L', 'ug/l'),
  '[NTU]': u('NTU', 'ntu'),
  '[pH]': u('pH', 'PH', 'ph'),
  'uS/cm': u('µS/cm', 'us/cm'),
  'mS/cm': u('mS/cm', 'ms/cm'),
  'S/m': u('S/m'),
  // Electricity.
  V: u('V', 'v'),
  kV: u('kV', 'KV', 'kv'),
  mV: u('mV'),
  A: u('A'),
  kA: u('kA', 'KA'),
  mA: u('mA'),
  W: u('W'),
  kW: u('kW', 'KW', 'kw'),
  MW: u('MW'),
  var: u('var', 'VAr', 'VAR', 'Var'),
  kvar: u('kvar', 'kVAr', 'kVAR', 'KVAR', 'kVar', 'Kvar'),
  Mvar: u('Mvar', 'MVAr', 'MVAR', 'MVar'),
  VA: u('VA'),
  kVA: u('kVA', 'KVA', 'kva'),
  MVA: u('MVA'),
  Hz: u('Hz', 'hz', 'HZ'),
  'W.h': u('Wh', 'WH'),
  'kW.h': u('kWh', 'KWH', 'kwh', 'KWh', 'Kwh'),
  'MW.h': u('MWh', 'MWH'),
  J: u('J'),
  kJ: u('kJ', 'KJ'),
  MJ: u('MJ'),
  'var.h': u('varh', 'VArh', 'VARh', 'VARH'),
  'kvar.h': u('kvarh', 'kVArh', 'kVARh', 'KVARH', 'kvarH'),
  'Mvar.h': u('Mvarh', 'MVArh', 'MVARH'),
};
