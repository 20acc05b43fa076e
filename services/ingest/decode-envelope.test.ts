import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { decodeEnvelope } from './decode-envelope.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const RECEIVED = NOW - 1000;

function envelope(payload: string, overrides: Partial<RawEnvelope> = {}): RawEnvelope {
  return { id: 'e1', source: 'mqtt', deviceId: 'dev-1', topic: 'sensors/dev-1/telemetry', receivedAtMs: RECEIVED, payloadEncoding: 'utf8', payload, ...overrides };
}

const decode = (payload: string, overrides: Partial<RawEnvelope> = {}) =>
  decodeEnvelope(envelope(payload, overrides), { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000 });

describe('decodeEnvelope (native JSON)', () => {
  it('takes the device timestamp when there is one, the receive time otherwise', () => {
    expect(decode('{"ts":"2026-11-21T08:00:00+08:00","metrics":{"pm2_5":35.2}}').readings).toEqual([
      { time: new Date('2026-11-21T00:00:00Z'), deviceId: 'dev-1', metric: 'pm2_5', value: 35.2, quality: 'good' },
    ]);
    expect(decode('{"metrics":{"pm10":61}}').readings[0]?.time).toEqual(new Date(RECEIVED));
  });

  it.each([
    [1763726400000, '2025-11-21T12:00:00.000Z'],
    [1763726400, '2025-11-21T12:00:00.000Z'],
    [1763726400.5, '2025-11-21T12:00:00.500Z'],
    ['2025-11-21T12:00:00.123Z', '2025-11-21T12:00:00.123Z'],
    ['2025-11-21T20:00:00+0800', '2025-11-21T12:00:00.000Z'],
  ])('reads timestamp %o as %s', (ts, iso) => {
    expect(decode(JSON.stringify({ ts, metrics: { co: 0.8 } })).readings[0]?.time.toISOString()).toBe(iso);
  });

  it('decodes an array of samples, each with its own time', () => {
    const outcome = decode(JSON.stringify([
      { ts: '2026-11-21T00:00:00Z', metrics: { flow: 10, pressure: 300 } },
      { ts: '2026-11-21T00:01:00Z', metrics: { flow: 12 } },
    ]));
    expect(outcome.refusals).toEqual([]);
    expect(outcome.readings.map((r) => [r.time.toISOString(), r.metric, r.value])).toEqual([
      ['2026-11-21T00:00:00.000Z', 'flow', 10],
      ['2026-11-21T00:00:00.000Z', 'pressure', 300],
      ['2026-11-21T00:01:00.000Z', 'flow', 12],
    ]);
  });

  it('maps booleans to 0/1 for state metrics only', () => {
    const outcome = decode('{"metrics":{"smoke_alarm":true,"cover_open":false,"gas_lel":true}}');
    expect(outcome.readings.map((r) => [r.metric, r.value])).toEqual([['smoke_alarm', 1], ['cover_open', 0]]);
    expect(outcome.refusals).toMatchObject([{ item: 2, reason: 'value_not_number' }]);
  });

  it.each([
    ['{"metrics":', 'payload_not_json'],
    ['[]', 'payload_empty'],
    ['{"metrics":{}}', 'payload_empty'],
    ['{"pm2_5":1}', 'payload_schema'],
    ['{"metrics":[1,2]}', 'payload_schema'],
    ['"just a string"', 'payload_schema'],
    ['null', 'payload_schema'],
    [JSON.stringify(Array.from({ length: 1001 }, () => ({ metrics: { co: 1 } }))), 'payload_schema'],
    [JSON.stringify({ metrics: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`m${i}`, 1])) }), 'payload_schema'],
    ['['.repeat(5000) + ']'.repeat(5000), 'payload_schema'],
  ])('refuses the whole message %#: %s', (payload, reason) => {
    const outcome = decode(payload);
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals).toMatchObject([{ item: -1, reason }]);
  });

  it.each([
    ['{"metrics":{"pm2_5":"35"}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":null}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":{"value":"35","unit":"ug/m3"}}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":{"val":1}}}', 'payload_schema'],
    ['{"metrics":{"pm2_5":{"value":1,"unit":"ug/m3","quality":"good"}}}', 'payload_schema'],
    ['{"metrics":{"pm2_5":{"value":1,"unit":7}}}', 'payload_schema'],
    ['{"metrics":{"pm2_5":1e999}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":-1}}', 'value_out_of_range'],
    ['{"metrics":{"pm2_5":{"value":2.1,"unit":"mg/m3"}}}', 'value_out_of_range'],
    ['{"metrics":{"ph":14.01}}', 'value_out_of_range'],
    ['{"metrics":{"smoke_alarm":0.5}}', 'value_out_of_range'],
    ['{"metrics":{"pm2_5":{"value":35,"unit":"ppm"}}}', 'unit_mismatch'],
    ['{"metrics":{"PM 2.5":3}}', 'metric_unknown'],
    ['{"metrics":{"__proto__":3}}', 'metric_unknown'],
    ['{"ts":"2026-11-21 08:00:00","metrics":{"pm10":3}}', 'timestamp_invalid'],
    ['{"ts":"yesterday","metrics":{"pm10":3}}', 'timestamp_invalid'],
    ['{"ts":946684799999,"metrics":{"pm10":3}}', 'timestamp_invalid'],
    ['{"ts":"2026-11-21T12:20:00Z","metrics":{"pm10":3}}', 'timestamp_invalid'],
    ['{"ts":true,"metrics":{"pm10":3}}', 'timestamp_invalid'],
  ])('refuses one value in %s: %s', (payload, reason) => {
    const outcome = decode(payload);
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals).toMatchObject([{ item: 0, reason }]);
  });

  it('refuses duplicated JSON keys instead of guessing which value was meant', () => {
    for (const payload of ['{"metrics":{"co":1,"co":2}}', '{"ts":1,"metrics":{"co":1},"ts":2}', '[{"metrics":{"co":1}},{"metrics":{"o3":1,"\\u006f3":2}}]']) {
      expect(decode(payload)).toMatchObject({ readings: [], refusals: [{ item: -1, reason: 'payload_duplicate_key' }] });
    }
  });

  it('takes catalogue aliases for keys, and refuses a second value of one metric at one time', () => {
    const outcome = decode('{"metrics":{"PM2.5":35,"a34002":61,"pm25":36}}');
    expect(outcome.readings.map((r) => [r.metric, r.value])).toEqual([['pm2_5', 35], ['pm10', 61]]);
    expect(outcome.refusals).toMatchObject([{ item: 2, reason: 'reading_duplicate' }]);
  });

  it('refuses binary payloads, other channels and foreign topics as whole messages', () => {
    expect(decode('AAEC', { payloadEncoding: 'base64' }).refusals).toMatchObject([{ reason: 'payload_not_utf8' }]);
    expect(decode('{}', { topic: 'sensors/dev-1/config' }).refusals).toMatchObject([{ reason: 'topic_unsupported' }]);
    expect(decode('{}', { topic: 'sensors/dev-2/telemetry' }).refusals).toMatchObject([{ reason: 'topic_unsupported' }]);
  });

  it('refuses values at the range edges only outside them', () => {
    const outcome = decode('{"metrics":{"humidity":100,"power_factor":-1,"frequency":39.999}}');
    expect(outcome.readings.map((r) => r.metric)).toEqual(['humidity', 'power_factor']);
    expect(outcome.refusals).toMatchObject([{ item: 2, reason: 'value_out_of_range' }]);
  });
});

describe('decodeEnvelope (native JSON with units)', () => {
  // Expected values worked out by hand: 1 mg = 1000 µg, 1 MPa = 1000 kPa, 1 bar = 100 kPa, 1 kWh = 1000 Wh, (°F − 32) × 5/9.
  it.each([
    ['pm2_5', 0.035, 'mg/m3', 35], ['pm2_5', 35, 'ug/m3', 35], ['pm10', 0.061, 'mg/m³', 61], ['so2', 0.0123, 'mg/m3', 12.3],
    ['pressure', 0.312, 'MPa', 312], ['pressure', 3.125, 'bar', 312.5], ['pressure', 312500, 'Pa', 312.5],
    ['energy_import', 1234567, 'Wh', 1234.567], ['energy_import', 1234.567, 'kWh', 1234.567],
    ['temperature', 71.6, '°F', 22], ['temperature', 295.15, 'K', 22], ['water_temperature', 59, '[degF]', 15],
    ['flow', 25, 'L/s', 90], ['level', 152, 'cm', 1.52], ['current', 1500, 'mA', 1.5], ['power_factor', 92, '%', 0.92],
  ])('%s %s %s is stored as %s', (metric, value, unit, expected) => {
    const outcome = decode(JSON.stringify({ ts: '2026-11-21T00:00:00Z', metrics: { [metric]: { value, unit } } }));
    expect(outcome.refusals).toEqual([]);
    expect(outcome.readings).toMatchObject([{ metric, value: expected, time: new Date('2026-11-21T00:00:00Z') }]);
  });

  it('takes a bare number, and a value object without a unit, in the canonical unit', () => {
    expect(decode('{"metrics":{"pm2_5":35,"pm10":{"value":61}}}').readings.map((r) => r.value)).toEqual([35, 61]);
  });
});

describe('decodeEnvelope (SenML channel)', () => {
  const senml = (pack: unknown) => decode(JSON.stringify(pack), { topic: 'sensors/dev-1/senml' });

  it('reads a pack: base name and base time, units converted, metric after the last ":" or "/"', () => {
    const outcome = senml([
      { bn: 'urn:dev:mac:0024befffe804ff1:', bt: 1763683200, n: 'pm2_5', u: 'ug/m3', v: 35.2 },
      { n: 'temperature', u: 'Cel', v: 21.5, t: 60 },
      { n: 'humidity', u: '%RH', v: 48 },
      { bn: 'station/7/', n: 'pressure', u: 'MPa', v: 0.35 },
      { n: 'humidity', v: 140, t: 120 },
    ]);
    expect(outcome.refusals).toMatchObject([{ item: 4, reason: 'value_out_of_range' }]);
    expect(outcome.readings.map((r) => [r.time.toISOString(), r.metric, r.value])).toEqual([
      ['2025-11-21T00:00:00.000Z', 'pm2_5', 35.2], ['2025-11-21T00:01:00.000Z', 'temperature', 21.5],
      ['2025-11-21T00:00:00.000Z', 'humidity', 48], ['2025-11-21T00:00:00.000Z', 'pressure', 350],
    ]);
  });

  it('gives counters their sum, refuses a sum for a gauge, strings, and unknown names', () => {
    const outcome = senml([
      { bn: 'meter:', n: 'energy_import', u: 'kWh', s: 1234.5, v: 2.1 },
      { n: 'rainfall', u: 'mm', s: 12.5 },
      { n: 'pm10', s: 3 },
      { n: 'label', vs: 'Machine Room' },
      { n: 'door', vb: true },
      { n: 'cover_open', vb: true },
    ]);
    expect(outcome.readings.map((r) => [r.metric, r.value])).toEqual([['energy_import', 1234.5], ['rainfall', 12.5], ['cover_open', 1]]);
    expect(outcome.refusals.map((r) => [r.item, r.reason])).toEqual([[2, 'value_not_number'], [3, 'metric_unknown'], [4, 'metric_unknown']]);
  });

  it('reads relative times from the receive time, not the worker clock', () => {
    expect(senml([{ n: 'co', v: 0.8, t: -30 }]).readings[0]?.time).toEqual(new Date(RECEIVED - 30_000));
    expect(senml([{ n: 'co', v: 0.8, t: 1200 }]).refusals).toMatchObject([{ reason: 'timestamp_invalid' }]);
  });
});
