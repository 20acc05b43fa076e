import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { decodeEnvelope } from './decode-envelope.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const RECEIVED = NOW - 1000;

function envelope(payload: string, overrides: Partial<RawEnvelope> = {}): RawEnvelope {
  return { id: 'e1', source: 'mqtt', deviceId: 'dev-1', topic: 'sensors/dev-1/telemetry', receivedAtMs: RECEIVED, payloadEncoding: 'utf8', payload, ...overrides };
}

const decode = (payload: string, overrides: Partial<RawEnvelope> = {}) =>
  decodeEnvelope(envelope(payload, overrides), { catalogue: METRIC_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000 });

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
    ['{"metrics":{"pm2_5":{"value":1}}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":1e999}}', 'value_not_number'],
    ['{"metrics":{"pm2_5":-1}}', 'value_out_of_range'],
    ['{"metrics":{"ph":14.01}}', 'value_out_of_range'],
    ['{"metrics":{"PM2.5":3}}', 'metric_unknown'],
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

  it('keeps the last of duplicated JSON keys, as JSON.parse does, and says so by storing one value', () => {
    expect(decode('{"metrics":{"co":1,"co":2}}').readings.map((r) => r.value)).toEqual([2]);
  });

  it('refuses binary payloads, other channels and foreign topics as whole messages', () => {
    expect(decode('AAEC', { payloadEncoding: 'base64' }).refusals).toMatchObject([{ reason: 'payload_not_utf8' }]);
    expect(decode('{}', { topic: 'sensors/dev-1/status' }).refusals).toMatchObject([{ reason: 'topic_unsupported' }]);
    expect(decode('{}', { topic: 'sensors/dev-2/telemetry' }).refusals).toMatchObject([{ reason: 'topic_unsupported' }]);
  });

  it('refuses values at the range edges only outside them', () => {
    const outcome = decode('{"metrics":{"humidity":100,"power_factor":-1,"frequency":39.999}}');
    expect(outcome.readings.map((r) => r.metric)).toEqual(['humidity', 'power_factor']);
    expect(outcome.refusals).toMatchObject([{ item: 2, reason: 'value_out_of_range' }]);
  });
});
