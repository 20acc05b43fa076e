import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineReason } from '../contracts/error-codes.js';
import { BUILTIN_CATALOGUE } from '../contracts/metric-catalogue.js';
import { decodeEnvelope } from '../services/ingest/decode-envelope.js';

/*
 * docs/native-payload.schema.json against the documented examples and against the
 * decoder. The schema is compiled by Fastify's own validator (Ajv, draft-07), the one
 * the API uses; Ajv is not a direct dependency of the project.
 */
const DOCS = path.resolve(import.meta.dirname, '..', 'docs');
const NOW = Date.parse('2026-11-21T12:00:00Z');
/** Refusals about the shape of a message, as opposed to the catalogue (metric, unit, range). */
const SHAPE: readonly QuarantineReason[] = ['payload_not_json', 'payload_schema', 'payload_empty', 'value_not_number', 'timestamp_invalid'];

describe('the native payload JSON Schema', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const schema = JSON.parse(await readFile(path.join(DOCS, 'native-payload.schema.json'), 'utf8')) as object;
    app = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } } });
    app.post('/validate', { schema: { body: schema } }, async () => ({ valid: true }));
    await app.ready();
  });
  afterAll(async () => app?.close());

  const valid = async (payload: string) => (await app.inject({ method: 'POST', url: '/validate', payload, headers: { 'content-type': 'application/json' } })).statusCode === 200;
  const decoded = (payload: string) => decodeEnvelope(
    { id: 'e', source: 'mqtt', deviceId: 'd', topic: 'sensors/d/telemetry', receivedAtMs: NOW, payloadEncoding: 'utf8', payload },
    { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000 },
  );

  it('accepts every native JSON example of docs/payloads.md, and so does the decoder', async () => {
    const markdown = await readFile(path.join(DOCS, 'payloads.md'), 'utf8');
    const section = markdown.slice(markdown.indexOf('## Native JSON'), markdown.indexOf('## SenML'));
    const examples = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) {
      expect(await valid(example), example).toBe(true);
      expect(decoded(example).refusals, example).toEqual([]);
    }
  });

  it.each([
    '{"metrics":{"pm2_5":35}}',
    '{"ts":null,"metrics":{"co":{"value":800,"unit":"ug/m3"}}}',
    '{"ts":"2026-11-21T08:00:00.123+0800","metrics":{"cover_open":true,"tilt":{"value":-0.5}}}',
    '{"ts":1763683200,"metrics":{"PM2.5":{"value":0.035,"unit":"mg/m3"}},"device":"ignored"}',
    '[{"metrics":{"flow":1}},{"ts":1763683260000,"metrics":{"flow":2}}]',
  ])('agrees with the decoder that %s is well formed', async (payload) => {
    expect(await valid(payload)).toBe(true);
    expect(decoded(payload).refusals).toEqual([]);
  });

  it.each([
    '{"pm2_5":35}', '{"metrics":{}}', '[]', '"text"', '{"metrics":[1]}', '{"metrics":{"pm2_5":"35"}}',
    '{"metrics":{"pm2_5":null}}', '{"metrics":{"pm2_5":{"val":1}}}', '{"metrics":{"pm2_5":{"value":1,"unit":""}}}',
    '{"metrics":{"pm2_5":{"value":1,"unit":"ug/m3","q":1}}}', '{"ts":"2026-11-21 08:00:00","metrics":{"pm2_5":1}}',
    '{"ts":true,"metrics":{"pm2_5":1}}', `{"metrics":{${Array.from({ length: 201 }, (_, i) => `"m${i}":1`).join(',')}}}`,
    JSON.stringify(Array.from({ length: 1001 }, () => ({ metrics: { co: 1 } }))),
  ])('agrees with the decoder that %s is not', async (payload) => {
    expect(await valid(payload)).toBe(false);
    const refusals = decoded(payload).refusals;
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((refusal) => SHAPE.includes(refusal.reason)), JSON.stringify(refusals)).toBe(true);
  });
});
