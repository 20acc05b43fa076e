import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface QuarantineAnswer {
  entries: { device: string; reason: string; message: string; payload: string; topic: string }[];
}

describe('refusals: each bad input is refused or quarantined with its reason, and the pipeline keeps going', () => {
  let env: TestStack;
  let device: RegisteredDevice;
  let other: RegisteredDevice;
  beforeAll(async () => {
    env = await startTestStack();
    device = await registerDevice(env.apiUrl, env.adminKey, { id: `bad-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    other = await registerDevice(env.apiUrl, env.adminKey, { id: `victim-${randomUUID().slice(0, 8)}`, domain: 'environment' });
  });
  afterAll(async () => env?.remove());

  const connect = (username: string, password: string) => mqtt.connectAsync(env.mqttUrl, { username, password, reconnectPeriod: 0 });

  async function quarantined(reason: string): Promise<QuarantineAnswer['entries']> {
    const answer = await api<QuarantineAnswer>(env.apiUrl, 'GET', `/api/v1/quarantine?device=${device.id}&reason=${reason}`, { key: env.adminKey });
    expect(answer.status).toBe(200);
    return answer.body.entries;
  }

  async function publishAndFindQuarantine(payload: string, reason: string) {
    const client = await connect(device.username, device.password);
    await client.publishAsync(device.topic, payload, { qos: 1 });
    await client.endAsync();
    return eventually(async () => {
      const entries = await quarantined(reason);
      return entries.find((entry) => entry.payload === payload);
    }, 10_000, `a quarantine entry with reason ${reason}`);
  }

  it('refuses a wrong password with CONNACK "bad username or password"', async () => {
    await expect(connect(device.username, 'not-the-secret')).rejects.toMatchObject({ code: 4 });
  });

  it('refuses an unknown device the same way', async () => {
    await expect(connect('no-such-device', device.password)).rejects.toMatchObject({ code: 4 });
  });

  it("refuses a publish to another device's topic: no PUBACK, connection closed, nothing stored", async () => {
    const client: MqttClient = await connect(device.username, device.password);
    const closed = new Promise<'closed'>((resolve) => client.once('close', () => resolve('closed')));
    const acknowledged = client.publishAsync(other.topic, JSON.stringify({ metrics: { pm2_5: 1 } }), { qos: 1 }).then(() => 'acknowledged' as const);
    expect(await Promise.race([closed, acknowledged])).toBe('closed');
    client.end(true);
    const readings = await api<{ readings: unknown[] }>(env.apiUrl, 'GET', `/api/v1/devices/${other.id}/readings`, { key: env.adminKey });
    expect(readings.body.readings).toEqual([]);
  });

  it('quarantines malformed JSON with reason payload_not_json and keeps the raw payload', async () => {
    const entry = await publishAndFindQuarantine('{"metrics": {"pm2_5": 12,', 'payload_not_json');
    expect(entry.message).toMatch(/not valid JSON/);
    expect(entry.topic).toBe(device.topic);
  });

  it('quarantines JSON of the wrong shape with reason payload_schema', async () => {
    const entry = await publishAndFindQuarantine('{"pm2_5": 12}', 'payload_schema');
    expect(entry.message).toMatch(/"metrics"/);
  });

  it('quarantines an unknown metric but stores the good metrics of the same message', async () => {
    const payload = JSON.stringify({ ts: '2026-11-18T10:00:00Z', metrics: { pm2_5: 20, unobtainium: 3 } });
    const entry = await publishAndFindQuarantine(payload, 'metric_unknown');
    expect(entry.message).toBe('metric "unobtainium" is not in the metric catalogue');
    const readings = await api<{ readings: { metric: string; value: number }[] }>(
      env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings?from=2026-11-18T00:00:00Z&to=2026-11-19T00:00:00Z`, { key: env.adminKey },
    );
    expect(readings.body.readings.map((row) => [row.metric, row.value])).toEqual([['pm2_5', 20]]);
  });

  it('quarantines a value outside the physical range instead of storing it as good', async () => {
    const entry = await publishAndFindQuarantine(JSON.stringify({ metrics: { humidity: 140 } }), 'value_out_of_range');
    expect(entry.message).toBe('humidity: 140 % is outside the physical range 0…100');
  });

  it('quarantines non-numeric values and timestamps without an offset', async () => {
    const notNumber = await publishAndFindQuarantine(JSON.stringify({ metrics: { pm10: '61' } }), 'value_not_number');
    expect(notNumber.message).toMatch(/pm10: value "61" is not a finite number/);
    const noOffset = await publishAndFindQuarantine(JSON.stringify({ ts: '2026-11-18T10:00:00', metrics: { pm10: 61 } }), 'timestamp_invalid');
    expect(noOffset.message).toMatch(/UTC offset/);
  });

  it('quarantines a payload on a channel it does not decode', async () => {
    const client = await connect(device.username, device.password);
    const payload = JSON.stringify({ metrics: { pm10: 1 } });
    await client.publishAsync(`sensors/${device.id}/config`, payload, { qos: 1 });
    await client.endAsync();
    const entry = await eventually(async () => (await quarantined('topic_unsupported')).find((e) => e.topic === `sensors/${device.id}/config`));
    expect(entry.message).toMatch(/channel "config" is not decoded/);
  });

  it('still stores good readings after all of the above', async () => {
    const client = await connect(device.username, device.password);
    await client.publishAsync(device.topic, JSON.stringify({ ts: '2026-11-17T10:00:00Z', metrics: { no2: 44 } }), { qos: 1 });
    await client.endAsync();
    const rows = await eventually(async () => {
      const answer = await api<{ readings: { metric: string; value: number }[] }>(
        env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings?metric=no2&from=2026-11-17T00:00:00Z&to=2026-11-18T00:00:00Z`, { key: env.adminKey },
      );
      return answer.body.readings.length > 0 ? answer.body.readings : undefined;
    });
    expect(rows).toMatchObject([{ metric: 'no2', value: 44 }]);
  });
});
