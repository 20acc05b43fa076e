import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { openSse, type SseConnection, type SseEvent } from '../support/sse-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** Issue 7, end to end: alert changes on the live stream and in /metrics, and MQTT wills marking devices offline. */

interface AlertEventData {
  change: 'opened' | 'acknowledged' | 'cleared';
  alert: { id: string; rule: string; device: string; metric: string; state: string; severity: string; note: string | null };
}

const alertData = (event: SseEvent) => JSON.parse(event.data) as AlertEventData;
const isAlert = (change: AlertEventData['change'], rule: string) => (event: SseEvent) =>
  event.event === 'alert' && alertData(event).change === change && alertData(event).alert.rule === rule;

describe('alerts reach operators live: the stream, the metrics, and wills', () => {
  let env: TestStack;
  let operator: string;
  const streams: SseConnection[] = [];
  const open = async (query: string) => {
    const stream = await openSse(`${env.apiUrl}/api/v1/stream?${query}`, { authorization: `Bearer ${operator}` });
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    // The periodic offline check never runs during this file: an offline alert can only come from a will.
    env = await startTestStack({ env: { DEVICE_OFFLINE_CHECK_INTERVAL_MS: '3600000' } });
    operator = (await api<{ key: string }>(env.apiUrl, 'POST', '/api/v1/api-keys', { key: env.adminKey, body: { role: 'operator', name: 'duty desk' } })).body.key;
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await env?.remove();
  });

  const publish = async (device: RegisteredDevice, topic: string, payload: string) => {
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    await client.publishAsync(topic, payload, { qos: 1 });
    await client.endAsync();
  };
  const activeAlerts = async (severity: string, state: string) => {
    const text = await (await fetch(`${env.apiUrl}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`urbansense_alerts_active{severity="${severity}",state="${state}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('streams an alarm as it opens, once, then its acknowledgement and its clearing, and counts it in /metrics', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `gas-${randomUUID().slice(0, 8)}`, domain: 'safety' });
    const alerts = await open(`device=${device.id}&events=alert`);
    const everything = await open(`device=${device.id}`);
    const readingsOnly = await open(`device=${device.id}&events=reading`);

    await publish(device, device.topic, JSON.stringify({ ts: '2026-11-21T08:00:00+08:00', metrics: { gas_lel: 55 } }));
    const opened = alertData(await alerts.next(isAlert('opened', 'gas-lel-critical')));
    expect(opened.alert).toMatchObject({ device: device.id, metric: 'gas_lel', severity: 'critical', state: 'open' });
    // The unfiltered stream has both, the reading before the alarm it raised.
    await everything.next(isAlert('opened', 'gas-lel-critical'));
    const kinds = everything.events.map((event) => event.event);
    expect(kinds.indexOf('reading')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('reading')).toBeLessThan(kinds.indexOf('alert'));
    expect(await activeAlerts('critical', 'open')).toBe(1);

    // A second reading above the level changes nothing: one open alert per rule and series.
    await publish(device, device.topic, JSON.stringify({ ts: '2026-11-21T08:00:05+08:00', metrics: { gas_lel: 60 } }));
    await readingsOnly.next((event) => event.data.includes('"value":60'));

    const ack = await api(env.apiUrl, 'POST', `/api/v1/alerts/${opened.alert.id}/ack`, { key: operator, body: { note: 'crew dispatched' } });
    expect(ack.status).toBe(200);
    const acknowledged = alertData(await alerts.next(isAlert('acknowledged', 'gas-lel-critical')));
    expect(acknowledged.alert).toMatchObject({ id: opened.alert.id, state: 'acknowledged', note: 'crew dispatched' });
    expect(await activeAlerts('critical', 'acknowledged')).toBe(1);
    expect(await activeAlerts('critical', 'open')).toBe(0);

    await publish(device, device.topic, JSON.stringify({ ts: '2026-11-21T08:01:00+08:00', metrics: { gas_lel: 0 } }));
    const cleared = alertData(await alerts.next(isAlert('cleared', 'gas-lel-critical')));
    expect(cleared.alert).toMatchObject({ id: opened.alert.id, state: 'cleared' });
    await alerts.next(isAlert('cleared', 'gas-lel-warning'));
    expect(await activeAlerts('critical', 'acknowledged')).toBe(0);

    const criticalOpenings = alerts.events.filter(isAlert('opened', 'gas-lel-critical'));
    expect(criticalOpenings).toHaveLength(1);
    expect(alerts.events.every((event) => event.event === 'alert')).toBe(true);
    expect(readingsOnly.events.every((event) => event.event === 'reading')).toBe(true);
    expect(readingsOnly.events).toHaveLength(3);
  });

  it("marks a device offline the moment its MQTT will fires, opens its offline alert, and clears it when it is back", async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `aq-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    const status = `sensors/${device.id}/status`;
    const alerts = await open(`device=${device.id}&events=alert`);
    const client = await mqtt.connectAsync(env.mqttUrl, {
      username: device.username, password: device.password, reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    await client.publishAsync(status, 'online', { qos: 1 });
    await client.publishAsync(device.topic, JSON.stringify({ metrics: { pm2_5: 12 } }), { qos: 1 });
    await eventually(async () => ((await api(env.apiUrl, 'GET', `/api/v1/devices/${device.id}`, { key: operator })).body.online === true ? true : undefined), 10_000, 'online');

    // The connection dies without DISCONNECT (a modem losing power): the broker publishes the will.
    client.stream.destroy();
    const offline = alertData(await alerts.next(isAlert('opened', 'device-offline'), 10_000));
    expect(offline.alert).toMatchObject({ device: device.id, metric: '', state: 'open' });
    expect((await api(env.apiUrl, 'GET', `/api/v1/devices/${device.id}`, { key: operator })).body.online).toBe(false);

    await publish(device, status, '{"online": true}');
    await alerts.next(isAlert('cleared', 'device-offline'), 10_000);
    expect((await api(env.apiUrl, 'GET', `/api/v1/devices/${device.id}`, { key: operator })).body.online).toBe(true);
    client.end(true);
  });

  it('quarantines a status message it cannot read, and leaves the device as it was', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `wl-${randomUUID().slice(0, 8)}`, domain: 'water' });
    await publish(device, `sensors/${device.id}/status`, 'maybe');
    const entry = await eventually(async () => {
      const answer = await api<{ entries: { reason: string; message: string }[] }>(env.apiUrl, 'GET', `/api/v1/quarantine?device=${device.id}`, { key: env.adminKey });
      return answer.body.entries?.[0];
    }, 10_000, 'quarantine entry');
    expect(entry.reason).toBe('payload_schema');
    expect(entry.message).toContain('"online" or "offline"');
    expect((await api(env.apiUrl, 'GET', `/api/v1/devices/${device.id}`, { key: operator })).body.online).toBeNull();
  });

  it('takes a reporting interval per device at registration and by update, and refuses absurd ones', async () => {
    const id = `flow-${randomUUID().slice(0, 8)}`;
    const created = await api(env.apiUrl, 'POST', '/api/v1/devices', { key: env.adminKey, body: { id, domain: 'water', name: 'flow meter', expectedIntervalS: 900 } });
    expect(created.status).toBe(201);
    expect(created.body.expectedIntervalS).toBe(900);
    const patched = await api(env.apiUrl, 'PATCH', `/api/v1/devices/${id}`, { key: env.adminKey, body: { expectedIntervalS: 60 } });
    expect(patched.body.expectedIntervalS).toBe(60);
    for (const bad of [0, -5, 1.5, 'often', false, '', 40_000_000]) {
      const refused = await api<{ errors: { name: string }[] }>(env.apiUrl, 'PATCH', `/api/v1/devices/${id}`, { key: env.adminKey, body: { expectedIntervalS: bad } });
      expect(refused.status, String(bad)).toBe(400);
      expect(refused.contentType).toContain('application/problem+json');
    }
    expect((await api(env.apiUrl, 'GET', `/api/v1/devices/${id}`, { key: env.adminKey })).body.expectedIntervalS).toBe(60);
    // The same holds for the other clearable fields: "" is a mistake, not null.
    expect((await api(env.apiUrl, 'PATCH', `/api/v1/devices/${id}`, { key: env.adminKey, body: { district: '' } })).status).toBe(400);
    const reset = await api(env.apiUrl, 'PATCH', `/api/v1/devices/${id}`, { key: env.adminKey, body: { expectedIntervalS: null } });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body.expectedIntervalS).toBeNull();
  });
});
