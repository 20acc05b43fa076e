import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDeviceProfiles } from '../../contracts/device-profile.js';
import { encodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import { QUARANTINE_REASONS } from '../../contracts/error-codes.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { parseSparkplugTopic } from '../../contracts/sparkplug-topic.js';
import { nbirth, tahuPayload } from '../../test/support/sparkplug-encoder.js';
import { decodeEnvelope, type EnvelopeOutcome } from './decode-envelope.js';
import { applySparkplugMessage, type SessionContext } from './sparkplug/sparkplug-session.js';
import { parseStrictJson } from './strict-json.js';

/*
 * Property tests over the payload decoders: whatever a device sends, decoding returns
 * readings or refusals with a catalogued reason — it never throws. FUZZ_RUNS raises the
 * number of cases per property for long runs (docs/security.md, "Fuzzing").
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const NOW = Date.parse('2026-11-21T04:00:00Z');
const SKEW = 600_000;
const METRICS = [...BUILTIN_CATALOGUE.metrics.keys()];

const profiles = parseDeviceProfiles({
  profiles: {
    vendor: {
      records: 'data',
      timestamp: { field: 'time', format: 'auto' },
      fields: { PM25: { metric: 'pm2_5', unit: 'mg/m3' }, 'env.t': { metric: 'temperature' }, rssi: 'ignore' },
    },
  },
}, BUILTIN_CATALOGUE, 'fuzz');

function envelope(topic: string, bytes: Uint8Array | string, source: 'mqtt' | 'opcua' = 'mqtt'): RawEnvelope {
  const payload = encodePayload(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  return source === 'opcua'
    ? { id: 'f', source, deviceId: 'f-1', nodeId: 'ns=1;s=F', receivedAtMs: NOW, ...payload }
    : { id: 'f', source, deviceId: 'f-1', topic, receivedAtMs: NOW, ...payload };
}

const decode = (topic: string, payload: Uint8Array | string, options: { vendor?: boolean; source?: 'mqtt' | 'opcua' } = {}) =>
  decodeEnvelope(envelope(topic, payload, options.source), {
    catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: SKEW, ...(options.vendor === true ? { profile: profiles.get('vendor') } : {}),
  });

function sparkplug(bytes: Uint8Array, type: string): EnvelopeOutcome {
  const topic = type.startsWith('D') ? `spBv1.0/g/${type}/f-1/d-1` : `spBv1.0/g/${type}/f-1`;
  const context: SessionContext = { nowMs: NOW, maxFutureSkewMs: SKEW, devices: new Map(), births: new Map(), changedBirths: new Set() };
  const edge = { edgeNodeId: 'f-1', groupId: undefined, bdSeq: undefined, lastSeq: undefined, order: { current: undefined, skipped: [] } };
  const outcome = applySparkplugMessage(edge, parseSparkplugTopic(topic)!, envelope(topic, bytes), 'apply', context);
  return { readings: [], refusals: outcome.refusals };
}

/** Decoding explained itself: every refusal has a catalogued reason and a message a person can read. */
function explained(outcome: EnvelopeOutcome): boolean {
  return outcome.refusals.every((refusal) => refusal.reason in QUARANTINE_REASONS && refusal.message.length > 5 && refusal.message.length < 2000)
    && outcome.readings.every((reading) => Number.isFinite(reading.value) && !Number.isNaN(reading.time.getTime()));
}

/** Values a device might send where a number belongs: numbers, and everything else JSON has. */
const anyValue = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));
const anyTimestamp = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.integer(), fc.double(), fc.string(), fc.constant('2026-11-21T04:00:00+08:00'), fc.constant(null),
);
const metricName = fc.oneof(fc.constantFrom(...METRICS), fc.string(), fc.constantFrom('__proto__', 'constructor', 'PM2.5', 'a34004'));

const nativeMessage = fc.record({
  ts: anyTimestamp,
  metrics: fc.dictionary(metricName, anyValue, { maxKeys: 8 }),
  units: fc.dictionary(metricName, fc.string(), { maxKeys: 3 }),
}, { requiredKeys: [] });
const senmlRecord = fc.record({ bn: fc.string(), bt: anyTimestamp, n: metricName, u: fc.string(), v: anyValue, vb: anyValue, s: anyValue, t: anyTimestamp }, { requiredKeys: [] });
const vendorMessage = fc.record({
  time: anyTimestamp,
  data: fc.array(fc.record({ PM25: anyValue, env: fc.record({ t: anyValue }, { requiredKeys: [] }), rssi: anyValue, extra: anyValue }, { requiredKeys: [] }), { maxLength: 4 }),
}, { requiredKeys: [] });
const opcuaMessage = fc.record({
  metric: metricName, unit: fc.string(), value: anyValue, dataType: fc.constantFrom('Double', 'Float', 'Int32', 'Boolean', 'String', 'DateTime'),
  status: fc.oneof(fc.integer(), fc.double(), fc.constant(0)), sourceTime: anyTimestamp, serverTime: anyTimestamp, timestampSource: fc.constantFrom('source', 'server', 'x'),
}, { requiredKeys: [] });

/** Flips, inserts and removes bytes: a damaged version of a valid message. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'insert', 'delete')), { maxLength: 6 }))
    .map(([bytes, edits]) => {
      const out = [...bytes];
      for (const [at, byte, edit] of edits) {
        const index = out.length === 0 ? 0 : at % out.length;
        if (edit === 'flip') out[index] = byte;
        else if (edit === 'insert') out.splice(index, 0, byte);
        else out.splice(index, 1);
      }
      return Uint8Array.from(out);
    });
}
const asBytes = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value) => Uint8Array.from(Buffer.from(JSON.stringify(value))));

describe('payload decoders never throw (fuzz)', () => {
  it('random bytes on every channel, as vendor JSON, OPC UA and Sparkplug', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      for (const topic of ['sensors/f-1/telemetry', 'sensors/f-1/senml', 'sensors/f-1/status', 'sensors/other/telemetry']) {
        if (!explained(decode(topic, bytes))) return false;
      }
      return explained(decode('sensors/f-1/telemetry', bytes, { vendor: true })) && explained(decode('', bytes, { source: 'opcua' }))
        && ['NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'NDEATH', 'DDEATH'].every((type) => explained(sparkplug(bytes, type)));
    }), { numRuns: RUNS });
  });

  it('native JSON messages of any shape, intact and damaged', () => {
    fc.assert(fc.property(fc.oneof(asBytes(nativeMessage), mutated(asBytes(nativeMessage)), asBytes(fc.jsonValue())), (bytes) =>
      explained(decode('sensors/f-1/telemetry', bytes))), { numRuns: RUNS });
  });

  it('SenML packs of any shape, intact and damaged', () => {
    const pack = fc.array(senmlRecord, { maxLength: 6 });
    fc.assert(fc.property(fc.oneof(asBytes(pack), mutated(asBytes(pack))), (bytes) => explained(decode('sensors/f-1/senml', bytes))), { numRuns: RUNS });
  });

  it('vendor JSON through a profile, intact and damaged', () => {
    fc.assert(fc.property(fc.oneof(asBytes(vendorMessage), mutated(asBytes(vendorMessage))), (bytes) =>
      explained(decode('sensors/f-1/telemetry', bytes, { vendor: true }))), { numRuns: RUNS });
  });

  it('OPC UA value payloads, intact and damaged', () => {
    fc.assert(fc.property(fc.oneof(asBytes(opcuaMessage), mutated(asBytes(opcuaMessage))), (bytes) =>
      explained(decode('', bytes, { source: 'opcua' }))), { numRuns: RUNS });
  });

  it('Sparkplug B protobuf: valid NBIRTH/NDATA payloads, damaged', () => {
    const metric = fc.record({ name: fc.oneof(fc.constantFrom(...METRICS), fc.string()), alias: fc.nat(20), type: fc.constantFrom('Double', 'Float', 'Int32', 'Boolean', 'String'), value: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string()) });
    const payload = fc.tuple(fc.array(metric, { maxLength: 5 }), fc.nat(255), fc.boolean()).map(([metrics, seq, birth]) => {
      try {
        return Uint8Array.from(birth ? nbirth(0, metrics as never, NOW) : tahuPayload({ timestamp: NOW, seq, metrics: metrics as never }));
      } catch {
        return Uint8Array.from([]); // a value the encoder itself cannot write, e.g. a string as Double
      }
    });
    fc.assert(fc.property(fc.oneof(payload, mutated(payload)), fc.constantFrom('NBIRTH', 'NDATA', 'DDATA'), (bytes, type) => explained(sparkplug(bytes, type))), { numRuns: RUNS });
  });
});

describe('cases the fuzz runs found', () => {
  it.each([8_640_000_000_000_001, -8_640_000_000_000_001, 1e300])('an epoch timestamp of %d, beyond what a Date holds, is refused as timestamp_invalid', (ts) => {
    const outcome = decode('sensors/f-1/telemetry', `{"ts":${ts},"metrics":{"co":1}}`);
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals).toMatchObject([{ reason: 'timestamp_invalid', message: expect.stringContaining('ms since 1970') }]);
  });
});

describe('round trips (fuzz)', () => {
  it('strict JSON reads what JSON.stringify writes, as JSON.parse does', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
      const text = JSON.stringify(value);
      expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    }), { numRuns: RUNS });
  });

  it('a valid native message is stored exactly: each catalogue metric in range at its timestamp', () => {
    const inRange = fc.constantFrom(...METRICS).chain((key) => {
      const metric = BUILTIN_CATALOGUE.metrics.get(key)!;
      const value = metric.kind === 'state' ? fc.constantFrom(0, 1) : fc.double({ min: metric.min, max: metric.max, noNaN: true, noDefaultInfinity: true });
      return value.map((number) => [key, number] as const);
    });
    const readings = fc.uniqueArray(inRange, { selector: ([key]) => key, minLength: 1, maxLength: 6 });
    const time = fc.integer({ min: Date.parse('2001-01-01T00:00:00Z'), max: NOW }).map((ms) => Math.floor(ms / 1000) * 1000);
    fc.assert(fc.property(readings, time, (pairs, ms) => {
      const outcome = decode('sensors/f-1/telemetry', JSON.stringify({ ts: new Date(ms).toISOString(), metrics: Object.fromEntries(pairs) }));
      expect(outcome.refusals).toEqual([]);
      const stored = outcome.readings.map((reading) => [reading.metric, reading.value, reading.time.getTime()]);
      // -0 is stored as 0; every other value exactly as sent.
      expect(stored.sort()).toEqual(pairs.map(([key, value]) => [key, value === 0 ? 0 : value, ms]).sort());
    }), { numRuns: RUNS });
  });
});
