import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, registerDevice } from '../support/api-client.js';
import { openSse } from '../support/sse-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

describe('the live stream, end to end: MQTT → worker commit → Redis stream → SSE', () => {
  let env: TestStack;
  let reader: string;
  beforeAll(async () => {
    env = await startTestStack();
    reader = (await api<{ key: string }>(env.apiUrl, 'POST', '/api/v1/api-keys', { key: env.adminKey, body: { role: 'reader', name: 'wall' } })).body.key;
  });
  afterAll(async () => env?.remove());

  it('delivers a reading published over MQTT to a filtered stream, and what was missed after a reconnect with Last-Event-ID', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `live-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    const other = await registerDevice(env.apiUrl, env.adminKey, { id: `noise-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    const url = `${env.apiUrl}/api/v1/stream?device=${device.id}&metric=pm2_5`;
    const stream = await openSse(url, { authorization: `Bearer ${reader}` });
    expect(stream.status).toBe(200);
    expect(stream.contentType).toBe('text/event-stream; charset=utf-8');

    const publish = async (who: typeof device, metrics: Record<string, number>, ts: string) => {
      const client = await mqtt.connectAsync(env.mqttUrl, { username: who.username, password: who.password, reconnectPeriod: 0 });
      await client.publishAsync(who.topic, JSON.stringify({ ts, metrics }), { qos: 1 });
      await client.endAsync();
    };
    await publish(other, { pm2_5: 1 }, '2026-11-21T08:00:00+08:00');
    await publish(device, { pm2_5: 35.2, pm10: 61 }, '2026-11-21T08:00:00+08:00');
    const first = await stream.next((event) => event.event === 'reading');
    expect(JSON.parse(first.data)).toEqual({ device: device.id, metric: 'pm2_5', time: '2026-11-21T00:00:00.000Z', value: 35.2, unit: 'ug/m3', quality: 'good' });
    // The stream entry of the reading's batch and its place in it.
    expect(first.id).toMatch(/^\d+-\d+\.\d+$/);
    stream.close();

    // Missed while disconnected: delivered on reconnect, nothing before the last seen id again.
    await publish(device, { pm2_5: 40 }, '2026-11-21T08:01:00+08:00');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const resumed = await openSse(url, { authorization: `Bearer ${reader}`, 'last-event-id': first.id! });
    const missed = await resumed.next((event) => event.event === 'reading');
    expect(JSON.parse(missed.data)).toMatchObject({ device: device.id, metric: 'pm2_5', value: 40, time: '2026-11-21T00:01:00.000Z' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resumed.events.filter((event) => event.event === 'reading')).toHaveLength(1);
    resumed.close();
  });

  it('refuses a stream without a key, and a malformed Last-Event-ID', async () => {
    expect((await api(env.apiUrl, 'GET', '/api/v1/stream')).status).toBe(401);
    const bad = await api<{ errors: { name: string }[] }>(env.apiUrl, 'GET', '/api/v1/stream', { key: reader, headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]?.name).toBe('last-event-id');
  });
});
