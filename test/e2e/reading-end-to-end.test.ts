import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface ReadingsAnswer {
  readings: { time: string; metric: string; value: number; unit: string; quality: string }[];
}

describe('one reading, end to end: MQTT → queue → PGlite+TimescaleDB → HTTP', () => {
  let env: TestStack;
  beforeAll(async () => {
    env = await startTestStack();
  });
  afterAll(async () => env?.remove());

  async function readings(deviceId: string, query = ''): Promise<ReadingsAnswer['readings']> {
    const answer = await api<ReadingsAnswer>(env.apiUrl, 'GET', `/api/v1/devices/${deviceId}/readings${query}`, { key: env.adminKey });
    expect(answer.status).toBe(200);
    return answer.body.readings;
  }

  async function queueDrained(): Promise<void> {
    await eventually(async () => {
      const counts = await env.stack.queue.counts();
      return counts.waiting + counts.active + counts.delayed === 0 ? true : undefined;
    }, 10_000, 'the ingest queue to drain');
  }

  it('stores a QoS 1 reading published with mqtt.js and serves it through the API', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `aq-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    expect(device.username).toBe(device.id);
    expect(device.topic).toBe(`sensors/${device.id}/telemetry`);
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    const ts = '2026-11-21T08:00:00+08:00';
    await client.publishAsync(device.topic, JSON.stringify({ ts, metrics: { pm2_5: 35.2, pm10: 61 } }), { qos: 1 });
    await client.endAsync();

    const stored = await eventually(async () => {
      const rows = await readings(device.id, '?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z');
      return rows.length === 2 ? rows : undefined;
    }, 10_000, 'the reading to appear in the API');
    // Ascending by time; within one instant the order is stable but not alphabetical.
    expect([...stored].sort((a, b) => a.metric.localeCompare(b.metric))).toEqual([
      { time: '2026-11-21T00:00:00.000Z', metric: 'pm10', value: 61, unit: 'ug/m3', quality: 'good' },
      { time: '2026-11-21T00:00:00.000Z', metric: 'pm2_5', value: 35.2, unit: 'ug/m3', quality: 'good' },
    ]);

    const latest = await api<{ metrics: Record<string, { value: number }> }>(env.apiUrl, 'GET', `/api/v1/devices/${device.id}/latest`, { key: env.adminKey });
    expect(latest.body.metrics.pm2_5?.value).toBe(35.2);
    expect(latest.body.metrics.pm10?.value).toBe(61);
  });

  it('accepts MQTT over WebSocket the same way', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `ws-${randomUUID().slice(0, 8)}`, domain: 'water' });
    const client = await mqtt.connectAsync(env.wsUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    await client.publishAsync(device.topic, JSON.stringify({ metrics: { pressure: 312.5, flow: 88 } }), { qos: 1 });
    await client.endAsync();
    const rows = await eventually(async () => {
      const found = await readings(device.id);
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((row) => [row.metric, row.value]).sort()).toEqual([['flow', 88], ['pressure', 312.5]]);
  });

  it('stores a reading published twice (QoS 1 redelivery) once, keeping the first value', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `dup-${randomUUID().slice(0, 8)}`, domain: 'grid' });
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    const ts = Date.parse('2026-11-20T12:00:00Z');
    const payload = JSON.stringify({ ts, metrics: { voltage: 231.4 } });
    await client.publishAsync(device.topic, payload, { qos: 1 });
    await client.publishAsync(device.topic, payload, { qos: 1 });
    // Same device, metric and time, different value: still the same reading.
    await client.publishAsync(device.topic, JSON.stringify({ ts, metrics: { voltage: 999 } }), { qos: 1 });
    await client.endAsync();
    await queueDrained();
    const rows = await readings(device.id, '?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z');
    expect(rows).toEqual([{ time: '2026-11-20T12:00:00.000Z', metric: 'voltage', value: 231.4, unit: 'V', quality: 'good' }]);
  });

  it('pages through raw readings with a cursor, ascending, without gaps or repeats', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `page-${randomUUID().slice(0, 8)}`, domain: 'safety' });
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    const start = Date.parse('2026-11-19T00:00:00Z');
    const samples = Array.from({ length: 25 }, (_, i) => ({ ts: start + i * 60_000, metrics: { gas_lel: i, tilt: -i / 10 } }));
    await client.publishAsync(device.topic, JSON.stringify(samples), { qos: 1 });
    await client.endAsync();
    await queueDrained();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?from=2026-11-19T00:00:00Z&to=2026-11-20T00:00:00Z&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api<ReadingsAnswer & { nextCursor: string | null }>(env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings${query}`, { key: env.adminKey });
      expect(page.status).toBe(200);
      seen.push(...page.body.readings.map((row) => `${row.time}/${row.metric}`));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    const expected = samples.flatMap((sample) => ['gas_lel', 'tilt'].map((metric) => `${new Date(sample.ts).toISOString()}/${metric}`));
    expect(seen).toEqual(expected);
  });
});
