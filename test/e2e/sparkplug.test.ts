import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { nbirth, ndeath, tahuPayload } from '../support/sparkplug-encoder.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface Reading { time: string; metric: string; value: number; quality: string; sourceQuality?: number }
interface Device { id: string; domain: string; parent: string | null; online: boolean | null }

/*
 * A Sparkplug B edge node speaking to the real broker with payloads from Eclipse Tahu's
 * encoder (npm sparkplug-payload): births with aliases, a device under it, alias-only
 * data, a sequence gap, a device death and the node's death as its MQTT will.
 */
describe('Sparkplug B, end to end', () => {
  let env: TestStack;
  let edge: RegisteredDevice;
  let client: MqttClient;
  const group = 'Tianjin Water';
  const t0 = Date.parse('2026-11-21T02:00:00Z');

  beforeAll(async () => {
    env = await startTestStack();
    edge = await registerDevice(env.apiUrl, env.adminKey, { id: `pump-${randomUUID().slice(0, 8)}`, domain: 'water' });
    client = await mqtt.connectAsync(env.mqttUrl, {
      username: edge.username, password: edge.password, reconnectPeriod: 0, clean: true,
      will: { topic: `spBv1.0/${group}/NDEATH/${edge.id}`, payload: ndeath(5), qos: 1, retain: false },
    });
  });
  afterAll(async () => {
    client?.end(true);
    await env?.remove();
  });

  const topic = (type: string, device?: string) => `spBv1.0/${group}/${type}/${edge.id}${device === undefined ? '' : `/${device}`}`;
  // Sparkplug 3.0 publishes BIRTH and DATA with QoS 0; QoS 1 here only lets the test know the broker has them.
  const publish = (type: string, payload: Buffer, device?: string) => client.publishAsync(topic(type, device), payload, { qos: 1 });

  async function readings(deviceId: string, count: number): Promise<Reading[]> {
    return eventually(async () => {
      const answer = await api<{ readings: Reading[] }>(env.apiUrl, 'GET', `/api/v1/devices/${deviceId}/readings?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z`, { key: env.adminKey });
      return answer.body.readings.length >= count ? answer.body.readings : undefined;
    }, 15_000, `${count} readings of ${deviceId}`);
  }

  async function device(id: string, until: (found: Device) => boolean): Promise<Device> {
    return eventually(async () => {
      const answer = await api<Device>(env.apiUrl, 'GET', `/api/v1/devices/${id}`, { key: env.adminKey });
      return answer.status === 200 && until(answer.body) ? answer.body : undefined;
    }, 15_000, `device ${id}`);
  }

  async function quarantined(reason: string) {
    return eventually(async () => {
      const answer = await api<{ entries: { device: string; message: string; topic: string }[] }>(env.apiUrl, 'GET', `/api/v1/quarantine?reason=${reason}`, { key: env.adminKey });
      const entries = answer.body.entries.filter((entry) => entry.device.startsWith(edge.id));
      return entries.length > 0 ? entries : undefined;
    }, 15_000, `a ${reason} entry`);
  }

  it('stores birth values, registers the Sparkplug device as a child, and resolves alias-only data', async () => {
    await publish('NBIRTH', nbirth(5, [
      { name: 'Outlet/pressure', alias: 1, type: 'Float', value: 0.31, timestamp: t0, properties: { engUnit: { type: 'String', value: 'MPa' } } },
      { name: 'Outlet/flow', alias: 2, type: 'Double', value: 88.5, timestamp: t0 },
      { name: 'Properties/Hardware Make', type: 'String', value: 'ACME' },
    ], t0));
    await publish('DBIRTH', tahuPayload({ timestamp: t0, seq: 1, metrics: [
      { name: 'Quality/ph', alias: 10, type: 'Float', value: 7.1, timestamp: t0 },
      { name: 'Quality/turbidity', alias: 11, type: 'Float', value: 0.4, timestamp: t0, properties: { Quality: { type: 'Int32', value: 500 } } },
    ] }), 'analyser1');
    // DATA metrics carry only their alias and value (Sparkplug 3.0 §6.4.4); the datatype and unit come from the birth.
    await publish('NDATA', tahuPayload({ timestamp: t0 + 60_000, seq: 2, metrics: [{ alias: 1, type: 'Float', value: 0.315, timestamp: t0 + 60_000 }] }));
    await publish('DDATA', tahuPayload({ timestamp: t0 + 60_000, seq: 3, metrics: [{ alias: 10, type: 'Float', value: 7.3, timestamp: t0 + 60_000 }] }), 'analyser1');

    const node = await readings(edge.id, 3);
    // 0.31 MPa = 310 kPa; 0.315 MPa = 315 kPa (the float32 0.315 read as the decimal the device wrote).
    expect(node.map((row) => [row.time, row.metric, row.value])).toEqual([
      ['2026-11-21T02:00:00.000Z', 'flow', 88.5], ['2026-11-21T02:00:00.000Z', 'pressure', 310], ['2026-11-21T02:01:00.000Z', 'pressure', 315],
    ]);
    const child = `${edge.id}.analyser1`;
    expect(await device(child, () => true)).toMatchObject({ id: child, domain: 'water', parent: edge.id, online: true });
    const childRows = await readings(child, 3);
    expect(childRows.map((row) => [row.time, row.metric, row.value, row.quality, row.sourceQuality])).toEqual([
      ['2026-11-21T02:00:00.000Z', 'ph', 7.1, 'good', undefined], ['2026-11-21T02:00:00.000Z', 'turbidity', 0.4, 'uncertain', 500],
      ['2026-11-21T02:01:00.000Z', 'ph', 7.3, 'good', undefined],
    ]);
  });

  it('reports a sequence gap in the quarantine and still stores the message', async () => {
    await publish('NDATA', tahuPayload({ timestamp: t0 + 120_000, seq: 7, metrics: [{ alias: 2, type: 'Double', value: 90.25, timestamp: t0 + 120_000 }] }));
    const [gap] = await quarantined('sparkplug_seq_gap');
    expect(gap).toMatchObject({ device: edge.id, topic: topic('NDATA'), message: `seq 7 follows 3: 3 message(s) of edge node ${edge.id} were lost` });
    expect((await readings(edge.id, 4)).at(-1)).toMatchObject({ metric: 'flow', value: 90.25 });
  });

  it('quarantines an alias no birth defined', async () => {
    await publish('DDATA', tahuPayload({ timestamp: t0 + 180_000, seq: 8, metrics: [{ alias: 99, type: 'Float', value: 1 }] }), 'analyser1');
    const [entry] = await quarantined('sparkplug_alias_unknown');
    expect(entry).toMatchObject({ device: `${edge.id}.analyser1`, message: `alias 99 is not defined by a BIRTH of ${edge.id}.analyser1` });
  });

  it('marks the device offline on DDEATH, and the edge node and its devices on NDEATH (the MQTT will)', async () => {
    await publish('DDEATH', tahuPayload({ timestamp: t0 + 240_000, seq: 9 }), 'analyser1');
    expect(await device(`${edge.id}.analyser1`, (found) => found.online === false)).toMatchObject({ online: false });
    expect(await device(edge.id, () => true)).toMatchObject({ online: true });

    await publish('DBIRTH', tahuPayload({ timestamp: t0 + 250_000, seq: 10, metrics: [{ name: 'Quality/ph', alias: 10, type: 'Float', value: 7.2 }] }), 'analyser1');
    await device(`${edge.id}.analyser1`, (found) => found.online === true);
    client.stream.destroy(); // the connection drops without DISCONNECT: the broker publishes the NDEATH will
    expect(await device(edge.id, (found) => found.online === false)).toMatchObject({ online: false });
    expect(await device(`${edge.id}.analyser1`, (found) => found.online === false)).toMatchObject({ online: false });
  });
});
