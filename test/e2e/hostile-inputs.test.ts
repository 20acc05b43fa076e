import { randomBytes, randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface Entry { reason: string; message: string; payload: string; payloadEncoding: string; topic: string }

/*
 * Hostile payloads through the real broker and queue: each is quarantined with a reason,
 * the worker keeps going, no job fails, and a good reading sent after them is stored.
 */
describe('hostile input, end to end', () => {
  let env: TestStack;
  let device: RegisteredDevice;
  beforeAll(async () => {
    env = await startTestStack();
    device = await registerDevice(env.apiUrl, env.adminKey, { id: `hostile-${randomUUID().slice(0, 8)}`, domain: 'safety' });
  });
  afterAll(async () => env?.remove());

  const cases: [name: string, topic: string, payload: Buffer | string, reason: string][] = [
    ['random bytes', 'telemetry', randomBytes(512), 'payload_not_utf8'],
    ['random bytes as Sparkplug', 'sparkplug', Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x01]), 'payload_not_protobuf'],
    ['deeply nested JSON', 'telemetry', `{"metrics":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, 'payload_schema'],
    ['a huge array', 'senml', JSON.stringify(Array.from({ length: 1500 }, () => ({ n: 'gas_lel', v: 1 }))), 'payload_schema'],
    ['NaN', 'telemetry', '{"metrics":{"gas_lel":NaN}}', 'payload_not_json'],
    ['Infinity', 'senml', '[{"n":"gas_lel","v":Infinity}]', 'payload_not_json'],
    ['a number as a string', 'telemetry', '{"metrics":{"gas_lel":"12"}}', 'value_not_number'],
    ['a duplicated key', 'telemetry', '{"metrics":{"gas_lel":1,"gas_lel":99}}', 'payload_duplicate_key'],
    ['a duplicated SenML field', 'senml', '[{"n":"gas_lel","v":1,"v":2}]', 'payload_duplicate_key'],
  ];

  it('quarantines each with its reason and keeps the raw payload (bounded)', async () => {
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    const sent: { topic: string; reason: string; name: string }[] = [];
    for (const [name, channel, payload, reason] of cases) {
      const topic = channel === 'sparkplug' ? `spBv1.0/g/NDATA/${device.id}` : `sensors/${device.id}/${channel}`;
      await client.publishAsync(topic, payload, { qos: 1 });
      sent.push({ topic, reason, name });
    }
    await client.publishAsync(device.topic, JSON.stringify({ ts: '2026-11-21T03:00:00Z', metrics: { gas_lel: 4.5, smoke_alarm: false } }), { qos: 1 });
    await client.endAsync();

    const entries = await eventually(async () => {
      const answer = await api<{ entries: Entry[] }>(env.apiUrl, 'GET', `/api/v1/quarantine?device=${device.id}&limit=100`, { key: env.adminKey });
      return answer.body.entries.length >= cases.length ? answer.body.entries.reverse() : undefined;
    }, 20_000, 'every hostile payload in the quarantine');
    expect(entries.map((entry) => entry.reason)).toEqual(cases.map(([, , , reason]) => reason));
    for (const entry of entries) {
      expect(entry.payload.length).toBeLessThanOrEqual(4096);
      expect(entry.message.length).toBeGreaterThan(10);
    }
    expect(entries[0]).toMatchObject({ payloadEncoding: 'base64', message: expect.stringContaining('not UTF-8') });

    const good = await eventually(async () => {
      const answer = await api<{ readings: { metric: string; value: number }[] }>(
        env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z`, { key: env.adminKey },
      );
      return answer.body.readings.length === 2 ? answer.body.readings : undefined;
    });
    expect(good.map((row) => [row.metric, row.value])).toEqual([['gas_lel', 4.5], ['smoke_alarm', 0]]);
    expect(await env.stack.queue.counts()).toMatchObject({ failed: 0 });
  });
});
