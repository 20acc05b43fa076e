import { randomUUID, X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as connectTls } from 'node:tls';
import mqtt from 'mqtt';
import { generate as generatePacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-schema.js';
import type { Refused } from '../../gateways/mqtt/mqtt-gateway.js';
import { formatBanner } from '../../runtime/banner.js';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { httpsApi } from '../support/https-client.js';
import { createTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/*
 * Issue 8: mqtts, wss and HTTPS with a certificate signed by a CA this test makes
 * (openssl), and clients that trust that CA, or do not.
 */

const MAX_PACKET_BYTES = 4096;

interface Registration extends RegisteredDevice {
  mqtt: { port: number | null; wsPort: number | null; wsPath: string; tlsPort: number | null; wssPort: number | null };
}

interface ReadingsAnswer {
  readings: { metric: string; value: number }[];
}

let certs: TestCertificates;
beforeAll(async () => {
  certs = await createTestCertificates();
});
afterAll(async () => certs?.remove());

/** Polls the readings of `deviceId` through `call` until `metric` is there. */
async function storedValue(call: ReturnType<typeof httpsApi> | typeof api, env: TestStack, deviceId: string, metric: string): Promise<number> {
  return eventually(async () => {
    const answer = await call<ReadingsAnswer>(env.apiUrl, 'GET', `/api/v1/devices/${deviceId}/readings`, { key: env.adminKey });
    expect(answer.status).toBe(200);
    return answer.body.readings.find((reading) => reading.metric === metric)?.value;
  }, 10_000, `${metric} of ${deviceId} in the API`);
}

const closed = (client: mqtt.MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

/** The serial number of the certificate a TLS server on `port` presents now. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca: certs.ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS listeners next to the plain ones: mqtts, wss and the API over HTTPS', () => {
  let env: TestStack;
  let trusted: ReturnType<typeof httpsApi>;
  const refusals: Refused[] = [];
  // Copies this stack reads, so that renewing them leaves the other tests' files alone.
  const live = { certFile: '', keyFile: '' };

  beforeAll(async () => {
    live.certFile = path.join(certs.dir, 'live.crt');
    live.keyFile = path.join(certs.dir, 'live.key');
    await copyFile(certs.certFile, live.certFile);
    await copyFile(certs.keyFile, live.keyFile);
    env = await startTestStack({ env: { TLS_CERT_FILE: live.certFile, TLS_KEY_FILE: live.keyFile, MQTT_MAX_PACKET_BYTES: String(MAX_PACKET_BYTES) } });
    env.stack.gateway!.events.on('refused', (refused) => refusals.push(refused));
    trusted = httpsApi({ ca: certs.ca });
  });
  afterAll(async () => env?.remove());

  async function register(prefix: string): Promise<Registration> {
    const answer = await trusted<Registration>(env.apiUrl, 'POST', '/api/v1/devices', {
      key: env.adminKey,
      body: { id: `${prefix}-${randomUUID().slice(0, 8)}`, domain: 'environment', name: `TLS test ${prefix}` },
    });
    expect(answer.status).toBe(201);
    return answer.body;
  }

  const connectTrusted = (url: string, device: RegisteredDevice) =>
    mqtt.connectAsync(url, { username: device.username, password: device.password, ca: certs.ca, reconnectPeriod: 0 });

  it('serves the API over HTTPS only, and tells a registered device where the TLS listeners are', async () => {
    expect(env.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await trusted(env.apiUrl, 'GET', '/readyz')).status).toBe(200);
    // The same port does not answer plain HTTP.
    await expect(fetch(env.apiUrl.replace('https:', 'http:') + '/readyz')).rejects.toThrow();

    const gateway = env.stack.gateway!;
    expect(gateway.tlsPort).toEqual(expect.any(Number));
    expect(gateway.wssPort).toEqual(expect.any(Number));
    const device = await register('reg');
    expect(device.mqtt).toEqual({ port: gateway.port, wsPort: gateway.wsPort, wsPath: '/mqtt', tlsPort: gateway.tlsPort, wssPort: gateway.wssPort });

    const banner = formatBanner(env.stack);
    expect(banner).toContain(`API        https://127.0.0.1:${env.stack.api!.port}/api/v1`);
    expect(banner).toContain(`MQTT       mqtt://127.0.0.1:${gateway.port}   ws://127.0.0.1:${gateway.wsPort}/mqtt`);
    expect(banner).toContain(`MQTT TLS   mqtts://127.0.0.1:${gateway.tlsPort}   wss://127.0.0.1:${gateway.wssPort}/mqtt`);
  });

  it('stores a QoS 1 reading published over mqtts by a client that trusts the CA', async () => {
    const device = await register('mqtts');
    const client = await connectTrusted(env.mqttsUrl, device);
    await client.publishAsync(device.topic, JSON.stringify({ metrics: { pm2_5: 12.5 } }), { qos: 1 });
    await client.endAsync();
    expect(await storedValue(trusted, env, device.id, 'pm2_5')).toBe(12.5);
  });

  it('stores a QoS 1 reading published over wss://…/mqtt', async () => {
    const device = await register('wss');
    expect(env.wssUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    const client = await connectTrusted(env.wssUrl, device);
    await client.publishAsync(device.topic, JSON.stringify({ metrics: { pm10: 40.25 } }), { qos: 1 });
    await client.endAsync();
    expect(await storedValue(trusted, env, device.id, 'pm10')).toBe(40.25);
  });

  it('is refused by clients that do not trust the CA, and counts the failed handshakes', async () => {
    const device = await register('untrusting');
    refusals.length = 0;
    const untrusting = { username: device.username, password: device.password, reconnectPeriod: 0 };
    await expect(mqtt.connectAsync(env.mqttsUrl, untrusting)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(mqtt.connectAsync(env.wssUrl, untrusting)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await expect(httpsApi({ ca: undefined })(env.apiUrl, 'GET', '/readyz')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Node's client hangs up without an alert: the broker sees a handshake cut short.
    await eventually(async () => (refusals.length >= 2 ? true : undefined), 5000, 'two handshake refusals');
    expect(refusals.map((refused) => refused.reason)).toEqual(['tls_handshake_failed', 'tls_handshake_failed']);
    expect(refusals[0]?.detail).toMatch(/^TLS handshake not completed: /);
  });

  it('answers plain MQTT on the TLS port with no CONNACK and closes it; other devices keep publishing', async () => {
    const device = await register('plain-on-tls');
    refusals.length = 0;
    const socket = connectTcp(env.stack.gateway!.tlsPort!, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(generatePacket({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: device.id, clean: true, keepalive: 30, username: device.username, password: Buffer.from(device.password) }));
    await socketClosed;
    const answer = Buffer.concat(received);
    // At most a TLS alert record (content type 21), never an MQTT CONNACK (0x20).
    expect(answer.length === 0 || answer[0] === 21).toBe(true);
    expect(refusals).toContainEqual(expect.objectContaining({ reason: 'tls_handshake_failed', detail: 'TLS handshake not completed: wrong version number' }));

    const client = await connectTrusted(env.mqttsUrl, device);
    await client.publishAsync(device.topic, JSON.stringify({ metrics: { no2: 21 } }), { qos: 1 });
    await client.endAsync();
    expect(await storedValue(trusted, env, device.id, 'no2')).toBe(21);
  });

  it.each([
    ['mqtts', () => env.mqttsUrl],
    ['wss', () => env.wssUrl],
  ])('closes a %s connection that announces a packet above MQTT_MAX_PACKET_BYTES, as on TCP', async (_name, url) => {
    const device = await register('big');
    refusals.length = 0;
    const client = await connectTrusted(url(), device);
    const gone = closed(client);
    client.publish(device.topic, 'x'.repeat(MAX_PACKET_BYTES * 2), { qos: 0 });
    await gone;
    client.end(true);
    expect(refusals).toMatchObject([{ reason: 'packet_too_large', deviceId: device.id }]);

    const next = await connectTrusted(url(), device);
    await next.publishAsync(device.topic, JSON.stringify({ metrics: { o3: 33 } }), { qos: 1 });
    await next.endAsync();
  });

  it('serves renewed certificate files (SIGHUP) to new connections, keeps open ones, and keeps them when the new files are wrong', async () => {
    const serialOf = async (file: string) => new X509Certificate(await readFile(file)).serialNumber;
    const [first, renewed] = [await serialOf(certs.certFile), await serialOf(certs.renewed.certFile)];
    const gateway = env.stack.gateway!;
    const ports = { mqtts: gateway.tlsPort!, wss: gateway.wssPort!, https: env.stack.api!.port };
    expect(await Promise.all(Object.values(ports).map(servedSerial))).toEqual([first, first, first]);

    const device = await httpsApi({ ca: certs.ca })<RegisteredDevice>(env.apiUrl, 'POST', '/api/v1/devices', {
      key: env.adminKey, body: { id: `renew-${randomUUID().slice(0, 8)}`, domain: 'grid', name: 'renewal test' },
    });
    const client = await mqtt.connectAsync(env.mqttsUrl, { username: device.body.username, password: device.body.password, ca: certs.ca, reconnectPeriod: 0 });

    await copyFile(certs.renewed.certFile, live.certFile);
    await copyFile(certs.renewed.keyFile, live.keyFile);
    await env.stack.renewTls();
    expect(await Promise.all(Object.values(ports).map(servedSerial))).toEqual([renewed, renewed, renewed]);
    // The connection opened before the renewal is still up and publishing.
    await client.publishAsync(device.body.topic, JSON.stringify({ metrics: { voltage: 230.5 } }), { qos: 1 });
    expect(client.connected).toBe(true);
    await client.endAsync();

    // A key that does not match: refused, naming the variable; the renewed certificate stays.
    await copyFile(certs.strayKeyFile, live.keyFile);
    await expect(env.stack.renewTls()).rejects.toMatchObject({ problems: [expect.stringMatching(/^TLS_KEY_FILE .*: does not belong to the certificate/)] });
    expect(await Promise.all(Object.values(ports).map(servedSerial))).toEqual([renewed, renewed, renewed]);
  });
});

describe('TLS only for devices, with client certificates; the API behind a proxy in plain HTTP', () => {
  let env: TestStack;
  const refusals: Refused[] = [];

  beforeAll(async () => {
    env = await startTestStack({
      env: {
        TLS_CERT_FILE: certs.certFile, TLS_KEY_FILE: certs.keyFile, MQTT_TLS_CLIENT_CA_FILE: certs.caFile,
        MQTT_PORT: 'off', MQTT_WS_PORT: '0', API_TLS: 'off',
      },
    });
    env.stack.gateway!.events.on('refused', (refused) => refusals.push(refused));
  });
  afterAll(async () => env?.remove());

  it('runs only mqtts and wss, says so at registration and in the banner, and serves plain HTTP', async () => {
    const gateway = env.stack.gateway!;
    expect(env.apiUrl).toMatch(/^http:\/\//);
    const device = (await registerDevice(env.apiUrl, env.adminKey, { id: `cc-${randomUUID().slice(0, 8)}`, domain: 'water' })) as Registration;
    expect(device.mqtt).toEqual({ port: null, wsPort: null, wsPath: '/mqtt', tlsPort: gateway.tlsPort, wssPort: gateway.wssPort });
    const banner = formatBanner(env.stack);
    expect(banner).not.toMatch(/ mqtt:\/\/| ws:\/\//);
    expect(banner).toContain(`MQTT TLS   mqtts://127.0.0.1:${gateway.tlsPort}   wss://127.0.0.1:${gateway.wssPort}/mqtt`);
  });

  it('accepts a device that presents a client certificate the CA signed, and refuses one without', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `cc-${randomUUID().slice(0, 8)}`, domain: 'water' });
    const credentials = { username: device.username, password: device.password, ca: certs.ca, reconnectPeriod: 0 };
    refusals.length = 0;
    await expect(mqtt.connectAsync(env.mqttsUrl, credentials)).rejects.toThrow();
    await eventually(async () => (refusals.length > 0 ? true : undefined), 5000, 'the handshake refusal');
    expect(refusals[0]).toMatchObject({ reason: 'tls_handshake_failed', detail: expect.stringMatching(/certificate/i) });

    for (const url of [env.mqttsUrl, env.wssUrl]) {
      const client = await mqtt.connectAsync(url, { ...credentials, cert: certs.client.cert, key: certs.client.key });
      await client.publishAsync(device.topic, JSON.stringify({ metrics: { pressure: url === env.mqttsUrl ? 301 : 302 } }), { qos: 1 });
      await client.endAsync();
    }
    await eventually(async () => {
      const answer = await api<ReadingsAnswer>(env.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings`, { key: env.adminKey });
      return answer.body.readings.length === 2 ? true : undefined;
    }, 10_000, 'both readings');
  });
});

describe('TLS configuration mistakes stop the start with the variable named', () => {
  it.each([
    ['a missing certificate file', () => ({ TLS_CERT_FILE: path.join(certs.dir, 'missing.crt'), TLS_KEY_FILE: certs.keyFile }), /^TLS_CERT_FILE .*missing\.crt: cannot be read \(ENOENT\)$/],
    ['a key of another certificate', () => ({ TLS_CERT_FILE: certs.certFile, TLS_KEY_FILE: certs.strayKeyFile }), /^TLS_KEY_FILE .*stray\.key: does not belong to the certificate in TLS_CERT_FILE/],
  ])('%s', async (_name, env, problem) => {
    // A data folder of our own: the stack never returns, so it cannot remove it.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'urbansense-tls-config-'));
    try {
      const started = startTestStack({ reuse: { dataDir, adminKey: 'tls-config-admin-key', queuePrefix: `t-${randomUUID().slice(0, 8)}` }, env: env() });
      const error = await started.then((stack) => stack.remove(), (caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(problem)]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
