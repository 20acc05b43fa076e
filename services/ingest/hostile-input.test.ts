import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import { QUARANTINE_REASONS } from '../../contracts/error-codes.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { parseSparkplugTopic } from '../../contracts/sparkplug-topic.js';
import { decodeEnvelope, type EnvelopeOutcome } from './decode-envelope.js';
import { applySparkplugMessage, type SessionContext } from './sparkplug/sparkplug-session.js';
import { parseStrictJson } from './strict-json.js';

const NOW = Date.parse('2026-11-21T04:00:00Z');
const TOPICS = ['sensors/h-1/telemetry', 'sensors/h-1/senml'];

function envelope(topic: string, bytes: Uint8Array | string): RawEnvelope {
  return {
    id: 'h', source: 'mqtt', deviceId: 'h-1', topic, receivedAtMs: NOW,
    ...encodePayload(typeof bytes === 'string' ? Buffer.from(bytes) : bytes),
  };
}

function sparkplug(bytes: Uint8Array | string, type = 'NDATA'): EnvelopeOutcome {
  const topic = `spBv1.0/g/${type}/h-1`;
  const context: SessionContext = { nowMs: NOW, maxFutureSkewMs: 600_000, devices: new Map(), births: new Map(), changedBirths: new Set() };
  const edge = { edgeNodeId: 'h-1', groupId: undefined, bdSeq: undefined, lastSeq: undefined, order: { current: undefined, skipped: [] } };
  const outcome = applySparkplugMessage(edge, parseSparkplugTopic(topic)!, envelope(topic, bytes), 'apply', context);
  return { readings: [], refusals: outcome.refusals };
}

/** Every outcome explains itself: readings, or refusals with a catalogued reason and a message. */
function expectExplained(outcome: EnvelopeOutcome): void {
  expect(outcome.readings.length + outcome.refusals.length).toBeGreaterThan(0);
  for (const refusal of outcome.refusals) {
    expect(Object.keys(QUARANTINE_REASONS)).toContain(refusal.reason);
    expect(refusal.message.length).toBeGreaterThan(5);
  }
}

const decode = (topic: string, payload: Uint8Array | string) =>
  decodeEnvelope(envelope(topic, payload), { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000 });

describe('hostile input is quarantined with a reason, never a crash', () => {
  it('random bytes, on every channel and as Sparkplug', () => {
    for (let round = 0; round < 300; round += 1) {
      const bytes = randomBytes(1 + (round % 97) * 13);
      for (const topic of TOPICS) expectExplained(decode(topic, bytes));
      expect(() => sparkplug(bytes)).not.toThrow();
    }
  });

  it.each([
    ['deep nesting', `{"metrics":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'payload_schema'],
    ['deep objects', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, 'payload_schema'],
    ['a huge array', JSON.stringify(Array.from({ length: 20_000 }, () => ({ metrics: { co: 1 } }))), 'payload_schema'],
    ['NaN', '{"metrics":{"co":NaN}}', 'payload_not_json'],
    ['Infinity', '{"metrics":{"co":Infinity}}', 'payload_not_json'],
    ['a duplicated key', '{"metrics":{"co":1,"co":1}}', 'payload_duplicate_key'],
    ['an escaped duplicate key', '{"metrics":{"co":1,"\\u0063o":1}}', 'payload_duplicate_key'],
    ['truncated JSON', '{"metrics":{"co":1', 'payload_not_json'],
    ['a NUL byte', '{"metrics":{"co":\u0000}}', 'payload_not_json'],
    ['an empty payload', '', 'payload_not_json'],
  ])('%s', (_name, payload, reason) => {
    for (const topic of TOPICS) {
      const outcome = decode(topic, payload);
      expect(outcome.readings).toEqual([]);
      expect(outcome.refusals).toMatchObject([{ item: -1, reason }]);
    }
  });

  it.each([
    ['numbers as strings', '{"metrics":{"co":"0.8"}}', 'value_not_number'],
    ['a prototype key', '{"metrics":{"__proto__":1}}', 'metric_unknown'],
    ['constructor', '{"metrics":{"constructor":1}}', 'metric_unknown'],
    ['an enormous number', '{"metrics":{"co":1e308}}', 'value_out_of_range'],
    ['an array value', '{"metrics":{"co":[1]}}', 'value_not_number'],
    ['a very long key', `{"metrics":{"${'k'.repeat(10_000)}":1}}`, 'metric_unknown'],
  ])('%s in native JSON', (_name, payload, reason) => {
    const outcome = decode(TOPICS[0]!, payload);
    expect(outcome.refusals).toMatchObject([{ reason }]);
    expect(outcome.refusals[0]!.message.length).toBeLessThan(300);
  });

  it('Sparkplug: truncated protobuf and deeply nested templates', () => {
    expect(sparkplug(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f])).refusals).toMatchObject([{ reason: 'payload_not_protobuf' }]);
    // Metric (field 2) → template_value (field 18) → metrics (field 2) → … 20 000 levels deep.
    let nested = Buffer.alloc(0);
    for (let level = 0; level < 20_000; level += 1) {
      const template = Buffer.concat([Buffer.from([0x12]), varint(nested.length), nested]);
      nested = Buffer.concat([Buffer.from([0x92, 0x01]), varint(template.length), template]);
    }
    const payload = Buffer.concat([Buffer.from([0x12]), varint(nested.length), nested]);
    expect(() => sparkplug(payload)).not.toThrow();
  });
});

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

describe('strict JSON', () => {
  it('accepts what JSON.parse accepts, duplicates and depth aside', () => {
    for (const text of ['{}', '[]', '"x"', '1', 'null', '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}', '{"a\\"b":1,"a\\\\b":2}']) {
      expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
    }
  });

  it('tells duplicates apart from equal keys in different objects, and names where', () => {
    expect(parseStrictJson('[{"a":1},{"a":1}]').ok).toBe(true);
    expect(parseStrictJson('{"x":{"a":1,"b":{"a":2},"a":3}}')).toEqual({ ok: false, reason: 'payload_duplicate_key', message: 'key "a" appears twice in the object at $.x' });
  });

  it('limits nesting depth', () => {
    expect(parseStrictJson(`${'['.repeat(32)}${']'.repeat(32)}`).ok).toBe(true);
    expect(parseStrictJson(`${'['.repeat(33)}${']'.repeat(33)}`)).toMatchObject({ ok: false, reason: 'payload_schema' });
  });
});
