import type { AlertRule } from './alert-rule.js';

/**
 * The rules shipped for the four domains, seeded at start when their id is absent
 * (storage/alert-rules-store.ts `seedRules`). Each says where its number comes from; where
 * a number is a convention rather than a standard's, the source says so. Operators tune
 * or disable them through /api/v1/rules.
 */
export const DEFAULT_RULES: readonly AlertRule[] = [
  {
    id: 'gas-lel-warning', name: 'Combustible gas, first-level alarm', severity: 'warning', enabled: true, forSeconds: 0,
    scope: { metric: 'gas_lel' }, condition: { type: 'above', trigger: 20, clear: 15 },
    source: 'GB/T 50493-2019: first-level alarm setpoint ≤ 25 %LEL; 20 %LEL is the usual setting. Clear at 15 %LEL is a convention.',
  },
  {
    id: 'gas-lel-critical', name: 'Combustible gas, second-level alarm', severity: 'critical', enabled: true, forSeconds: 0,
    scope: { metric: 'gas_lel' }, condition: { type: 'above', trigger: 50, clear: 40 },
    source: 'GB/T 50493-2019: second-level alarm setpoint ≤ 50 %LEL. Clear at 40 %LEL is a convention.',
  },
  {
    id: 'manhole-cover-open', name: 'Manhole cover open', severity: 'warning', enabled: true, forSeconds: 0,
    scope: { metric: 'cover_open' }, condition: { type: 'above', trigger: 1, clear: 1 },
    source: 'A state reported by the cover sensor (1 = open); no threshold to cite.',
  },
  {
    id: 'smoke-alarm', name: 'Smoke alarm', severity: 'critical', enabled: true, forSeconds: 0,
    scope: { metric: 'smoke_alarm' }, condition: { type: 'above', trigger: 1, clear: 1 },
    source: 'A state reported by the detector (1 = alarm), which applies its own alarm threshold; no number to cite.',
  },
  {
    id: 'water-pressure-low', name: 'Water-supply pressure below floor', severity: 'warning', enabled: true, forSeconds: 60,
    scope: { metric: 'pressure', domain: 'water' }, condition: { type: 'below', trigger: 140, clear: 160 },
    source: "CJJ 207-2013: pressure at the network's least favourable point ≥ 0.14 MPa (140 kPa). Applied at every sensor; the 160 kPa clear level and 60 s hold are conventions — set per district.",
  },
  {
    id: 'pm2_5-grade-ii-daily', name: 'PM2.5 above the Grade II daily limit', severity: 'warning', enabled: true, forSeconds: 3600,
    scope: { metric: 'pm2_5' }, condition: { type: 'above', trigger: 75, clear: 65 },
    source: 'GB 3095-2012 Table 1: PM2.5 24-hour mean, Grade II, 75 µg/m³. Applied to readings held for 1 h as an early warning, not a compliance assessment of the 24-hour mean; the 65 µg/m³ clear level is a convention.',
  },
  {
    id: 'aqi-heavy-pollution', name: 'Air quality index: heavy pollution', severity: 'warning', enabled: true, forSeconds: 0,
    scope: { metric: 'aqi', domain: 'environment' }, condition: { type: 'above', trigger: 201, clear: 151 },
    source: 'HJ 633-2012 Table 2: AQI 201–300 is level V, heavy pollution (重度污染). Evaluated on each station\'s hourly (real-time) AQI once the hour is complete; clears when the AQI is back at level III (≤ 150) or better — a convention.',
  },
  {
    id: 'grid-frequency-band', name: 'Grid frequency outside the normal band', severity: 'warning', enabled: true, forSeconds: 10,
    scope: { metric: 'frequency' }, condition: { type: 'outside', low: 49.8, high: 50.2, lowClear: 49.85, highClear: 50.15 },
    source: 'GB/T 15945-2008: frequency deviation limit ±0.2 Hz in normal operation (±0.5 Hz for systems of small capacity). The ±0.15 Hz clear band and 10 s hold are conventions.',
  },
];
