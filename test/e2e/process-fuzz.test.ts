import { randomBytes, randomUUID } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import fc from 'fast-check';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/*
 * Whole-process fuzz: random and damaged bytes at the real broker socket and random
 * query strings at the real API for FUZZ_SECONDS (default 3), while a device stays
 * connected. Afterwards the process still serves: the connected device and a new one
 * publish, the reading is stored and the API answers — and no request got a 500.
 */
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 3);

const GET_ROUTES = ['/api/v1/devices', '/api/v1/devices/{id}', '/api/v1/devices/{id}/readings', '/api/v1/readings', '/api/v1/devices/{id}/latest',
  '/api/v1/latest', '/api/v1/quarantine', '/api/v1/api-keys', '/api/v1/alerts', '/api/v1/rules', '/api/v1/aqi', '/api/v1/aqi/stations/{id}', '/api/v1/metrics'];
const PARAMS = ['device', 'metric', 'from', 'to', 'bucket', 'agg', 'tz', 'cursor', 'order', 'limit', 'fill', 'domain', 'district', 'bbox', 'after', 'before', 'reason', 'state', 'severity', 'at', 'revoked', 'q'];

describe('whole-process fuzz: the stack keeps serving', () => {
  let env: TestStack;
  let device: RegisteredDevice;
  beforeAll(async () => {
    // Every fuzz client comes from 127.0.0.1, like the well-behaved ones after it; the
    // failed-login back-off would (rightly) lock them out too, so it is off here
    // (gateways/mqtt/hostile-clients.test.ts tests it).
    env = await startTestStack({ env: { MQTT_MAX_AUTH_FAILURES_PER_MINUTE: '0' } });
    device = await registerDevice(env.apiUrl, env.adminKey, { id: `fz-${randomUUID().slice(0, 8)}`, domain: 'safety' });
  });
  afterAll(async () => env?.remove());

  /** A valid CONNECT (with the device's real secret half the time), PUBLISH or SUBSCRIBE, then damaged. */
  function hostileBytes(): Buffer {
    const valid = [
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 5, clientId: `${device.id}:fz`, username: device.id, password: Buffer.from(Math.random() < 0.5 ? device.password : 'wrong') }),
      mqttPacket.generate({ cmd: 'publish', topic: device.topic, payload: Buffer.from('{"metrics":{"gas_lel":1}}'), qos: 1, messageId: 7, dup: false, retain: false }),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: '#', qos: 1 }] }),
    ];
    const pick = () => valid[Math.floor(Math.random() * valid.length)] ?? Buffer.alloc(0);
    const bytes = Math.random() < 0.3 ? randomBytes(1 + Math.floor(Math.random() * 300)) : Buffer.concat([pick(), pick()]);
    for (let flips = Math.floor(Math.random() * 4); flips > 0; flips--) bytes[Math.floor(Math.random() * bytes.length)] = Math.floor(Math.random() * 256);
    return bytes;
  }

  async function fuzzBroker(untilMs: number): Promise<number> {
    const port = Number(new URL(env.mqttUrl).port);
    let sent = 0;
    while (Date.now() < untilMs) {
      await new Promise<void>((resolve) => {
        const socket = connectTcp(port, '127.0.0.1', () => {
          socket.write(hostileBytes());
          sent++;
        });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
        // Give the broker a moment to answer or close, then hang up ourselves.
        setTimeout(() => socket.destroy(), 30);
      });
    }
    return sent;
  }

  async function fuzzApi(untilMs: number): Promise<{ sent: number; failures: string[] }> {
    const failures: string[] = [];
    let sent = 0;
    const query = fc.dictionary(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 8 })), fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom('-1', '1e309', '\u0000', '-999999w', 'now')), { maxKeys: 4 });
    while (Date.now() < untilMs) {
      const [params] = fc.sample(query, 1);
      const route = (GET_ROUTES[Math.floor(Math.random() * GET_ROUTES.length)] ?? '/').replace('{id}', Math.random() < 0.5 ? device.id : encodeURIComponent(fc.sample(fc.string({ minLength: 1, maxLength: 80 }), 1)[0] ?? 'x'));
      const url = `${route}?${new URLSearchParams(params).toString()}`;
      const response = await fetch(`${env.apiUrl}${url}`, { headers: { authorization: `Bearer ${env.adminKey}` } });
      await response.arrayBuffer();
      sent++;
      if (response.status >= 500 && response.status !== 503) failures.push(`${response.status} GET ${url}`);
    }
    return { sent, failures };
  }

  it(`survives ${SECONDS} s of hostile bytes and query strings`, async () => {
    const connected = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, clientId: device.id, reconnectPeriod: 0 });
    const untilMs = Date.now() + SECONDS * 1000;
    const [packets, requests] = await Promise.all([fuzzBroker(untilMs), fuzzApi(untilMs)]);
    expect(packets).toBeGreaterThan(5);
    expect(requests.sent).toBeGreaterThan(5);
    expect(requests.failures).toEqual([]);

    // The device connected all along, and a new connection, are served; the reading is stored.
    await connected.publishAsync(device.topic, JSON.stringify({ ts: '2026-11-21T05:00:00Z', metrics: { gas_lel: 7 } }), { qos: 1 });
    await connected.endAsync();
    const fresh = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, clientId: `${device.id}:after`, reconnectPeriod: 0 });
    await fresh.publishAsync(device.topic, JSON.stringify({ ts: '2026-11-21T05:01:00Z', metrics: { gas_lel: 8 } }), { qos: 1 });
    await fresh.endAsync();
    const stored = await eventually(async () => {
      const answer = await api<{ readings: { value: number }[] }>(env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings?from=2026-11-21T05:00:00Z&to=2026-11-21T06:00:00Z`, { key: env.adminKey });
      return answer.body.readings.length === 2 ? answer.body.readings : undefined;
    }, 15_000, 'both readings stored');
    expect(stored.map((reading) => reading.value).sort()).toEqual([7, 8]);
    expect((await fetch(`${env.apiUrl}/healthz`)).status).toBe(200);
  }, SECONDS * 1000 + 60_000);
});
