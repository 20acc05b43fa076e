import { randomUUID } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createIngestQueue } from '../../queue/ingest-queue.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { migrate } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';
import { testRedisUrl } from '../../test/support/services.js';
import type { ConnectionLimits } from './connection-limiter.js';
import { createMqttGateway, type MqttGateway, type Refused } from './mqtt-gateway.js';

/*
 * Clients that attack the broker rather than send bad data: client id takeovers,
 * connection and login floods, packets that break MQTT 3.1.1. Each is refused with its
 * MQTT reason and counted, and devices already connected keep publishing.
 */
describe('MQTT gateway against hostile clients', () => {
  let db: Database;
  const alpha = { id: `alpha-${randomUUID().slice(0, 8)}`, secret: generateDeviceSecret() };
  const beta = { id: `beta-${randomUUID().slice(0, 8)}`, secret: generateDeviceSecret() };
  const open: { close(): Promise<unknown> }[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase({ dataDir: undefined });
    await migrate(db);
    for (const device of [alpha, beta]) {
      await insertDevice(db, { id: device.id, domain: 'safety', name: device.id, secretHash: await hashDeviceSecret(device.secret) });
    }
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.end(true);
    for (const item of open.splice(0).reverse()) await item.close();
  });
  afterAll(async () => db?.close());

  async function startGateway(limits: ConnectionLimits = {}): Promise<{ gateway: MqttGateway; refusals: Refused[] }> {
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix: `hc-${randomUUID().slice(0, 8)}`, attempts: 1, addTimeoutMs: 1000 });
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 100, maxPayloadChars: 1 << 20, maxWaitMs: 5, send: (envelopes) => queue.add(envelopes) });
    const gateway = await createMqttGateway({ host: '127.0.0.1', port: 0, wsPort: undefined, maxPacketBytes: 4096, limits }, { db, batcher });
    open.push(queue, gateway);
    const refusals: Refused[] = [];
    gateway.events.on('refused', (refused) => refusals.push(refused));
    return { gateway, refusals };
  }

  /** Like mqtt.connectAsync, but a connection the broker closes without CONNACK rejects instead of hanging. */
  function connect(gateway: MqttGateway, device: { id: string; secret: string }, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${gateway.port}`, { username: device.id, password: device.secret, reconnectPeriod: 0, ...extra });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed without CONNACK')));
    });
  }

  /** A QoS 1 publish that resolves only with a PUBACK: proof the device is still served. */
  const publishes = (client: MqttClient, device: { id: string }) =>
    client.publishAsync(`sensors/${device.id}/telemetry`, JSON.stringify({ metrics: { gas_lel: 1 } }), { qos: 1 });

  const closedOf = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let waited = 0; !condition(); waited += 20) {
      if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function retry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (tries === 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  describe('client ids are bound to the device that holds them', () => {
    it("refuses another device's client id with CONNACK 2 and leaves the holder connected", async () => {
      const { gateway, refusals } = await startGateway();
      const holder = await connect(gateway, alpha, { clientId: alpha.id });
      let holderClosed = false;
      holder.once('close', () => (holderClosed = true));
      await expect(connect(gateway, beta, { clientId: alpha.id })).rejects.toMatchObject({ code: 2 });
      expect(refusals).toMatchObject([{ reason: 'client_id_taken', clientId: alpha.id, deviceId: beta.id, address: '127.0.0.1' }]);
      await publishes(holder, alpha);
      expect(holderClosed).toBe(false);
    });

    it("lets a device take back its own id from a squatter, and never hands one device's kept session to another", async () => {
      const { gateway, refusals } = await startGateway();
      // beta squats alpha's id while alpha is away: allowed (nobody is disturbed) …
      const squatter = await connect(gateway, beta, { clientId: alpha.id });
      const squatterClosed = closedOf(squatter);
      // … until alpha comes back: its own id is always its own (a normal reconnect takes over).
      const owner = await connect(gateway, alpha, { clientId: alpha.id });
      await squatterClosed;
      await publishes(owner, alpha);
      await expect(connect(gateway, beta, { clientId: alpha.id })).rejects.toMatchObject({ code: 2 });

      // A free-form id with a kept session (clean: false) stays bound after the connection ends.
      const sessionId = `console-${randomUUID().slice(0, 8)}`;
      const withSession = await connect(gateway, alpha, { clientId: sessionId, clean: false });
      await withSession.subscribeAsync(`sensors/${alpha.id}/commands`, { qos: 1 });
      await withSession.endAsync();
      await expect(connect(gateway, beta, { clientId: sessionId, clean: false })).rejects.toMatchObject({ code: 2 });
      const resumed = await connect(gateway, alpha, { clientId: sessionId, clean: false });
      await publishes(resumed, alpha);
      expect(refusals.map((refused) => refused.reason)).toEqual(['client_id_taken', 'client_id_taken']);
    });

    it('lets the same device reconnect with its id (the old connection is closed), and use {deviceId}:{suffix} ids side by side', async () => {
      const { gateway, refusals } = await startGateway();
      const first = await connect(gateway, alpha, { clientId: alpha.id });
      const firstClosed = closedOf(first);
      const second = await connect(gateway, alpha, { clientId: alpha.id });
      await firstClosed;
      const sidecar = await connect(gateway, alpha, { clientId: `${alpha.id}:sidecar` });
      await publishes(second, alpha);
      await publishes(sidecar, alpha);
      // A client id freed by a clean disconnect can be used by anyone.
      const shared = `shared-${randomUUID().slice(0, 8)}`;
      await (await connect(gateway, alpha, { clientId: shared })).endAsync();
      await publishes(await connect(gateway, beta, { clientId: shared }), beta);
      expect(refusals).toEqual([]);
    });
  });

  describe('missing credentials', () => {
    it.each([
      ['no username and no password', () => ({})],
      ['a username without a password', () => ({ username: alpha.id })],
      ['an empty password', () => ({ username: alpha.id, password: '' })],
    ])('refuses %s with CONNACK 4', async (_name, credentials: () => mqtt.IClientOptions) => {
      const { gateway, refusals } = await startGateway();
      await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.port}`, { reconnectPeriod: 0, ...credentials() })).rejects.toMatchObject({ code: 4 });
      expect(refusals).toMatchObject([{ reason: 'bad_credentials' }]);
    });
  });

  describe('floods from one address', () => {
    it('closes connections above the per-address limit as they are accepted; connected devices keep publishing', async () => {
      const { gateway, refusals } = await startGateway({ maxConnectionsPerAddress: 3 });
      const a = await connect(gateway, alpha, { clientId: alpha.id });
      const b = await connect(gateway, beta, { clientId: beta.id });
      const idle = await openSocket(gateway.port);
      // The fourth connection from 127.0.0.1: closed before it can send anything.
      const flood = await Promise.all(Array.from({ length: 5 }, () => openSocket(gateway.port)));
      await Promise.all(flood.map((socket) => closedSocket(socket)));
      expect(refusals.map((refused) => refused.reason)).toEqual(Array(5).fill('too_many_connections'));
      expect(refusals[0]).toMatchObject({ address: '127.0.0.1', detail: expect.stringContaining('the limit is 3') });
      await publishes(a, alpha);
      await publishes(b, beta);
      // A connection that ends frees its place.
      idle.destroy();
      await closedSocket(idle);
      // The broker sees the close a moment after the client: retry until it has.
      const again = await retry(() => connect(gateway, alpha, { clientId: `${alpha.id}:again` }));
      await publishes(again, alpha);
    });

    it('after too many failed logins refuses the address without checking passwords until the window ends', async () => {
      const { gateway, refusals } = await startGateway({ maxAuthFailures: 3, authFailureWindowMs: 1500 });
      const connected = await connect(gateway, alpha, { clientId: alpha.id });
      for (let attempt = 0; attempt < 3; attempt++) {
        await expect(connect(gateway, beta, { password: 'wrong' })).rejects.toMatchObject({ code: 4 });
      }
      // Even the right secret is not checked now: CONNACK 3, "server unavailable", retry later.
      await expect(connect(gateway, beta)).rejects.toMatchObject({ code: 3 });
      expect(refusals.map((refused) => refused.reason)).toEqual(['bad_credentials', 'bad_credentials', 'bad_credentials', 'auth_backoff']);
      expect(refusals[3]).toMatchObject({ address: '127.0.0.1', deviceId: beta.id, detail: expect.stringContaining('3 failed logins') });
      await publishes(connected, alpha);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      await publishes(await connect(gateway, beta), beta);
    });
  });

  describe('malformed packets: the connection is closed, counted, and others are served', () => {
    const connectPacket = (device: { id: string; secret: string }, clientId = `${device.id}:raw`) =>
      mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId, username: device.id, password: Buffer.from(device.secret) });
    /** A PUBLISH whose topic is the given raw bytes (generate() would re-encode a string). */
    const publishRaw = (topic: Buffer, flags = 0x30) => {
      const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from('{}')]);
      return Buffer.concat([Buffer.from([flags, body.length]), body]);
    };
    const connectWith = (protocolName: string, level: number, flags: number) => {
      const name = Buffer.from(protocolName);
      const body = Buffer.concat([Buffer.from([0, name.length]), name, Buffer.from([level, flags, 0, 60, 0, 1]), Buffer.from('x')]);
      return Buffer.concat([Buffer.from([0x10, body.length]), body]);
    };

    const beforeConnect: [name: string, bytes: () => Buffer][] = [
      ['a bad protocol name', () => connectWith('MQTX', 4, 0x02)],
      ['an unknown protocol level', () => connectWith('MQTT', 9, 0x02)],
      ['MQTT 5 (level 5), which the broker does not speak', () => mqttPacket.generate({ cmd: 'connect', protocolVersion: 5, clientId: 'v5', clean: true, keepalive: 0 })],
      ['the reserved CONNECT flag bit set', () => connectWith('MQTT', 4, 0x03)],
      ['a remaining length shorter than the CONNECT', () => Buffer.from([0x10, 0x03, 0x00, 0x04, 0x4d])],
      ['a packet before CONNECT', () => Buffer.from([0xc0, 0x00])],
    ];
    const afterConnect: [name: string, bytes: (deviceId: string) => Buffer][] = [
      ['a second CONNECT', () => connectPacket(alpha, `${alpha.id}:second`)],
      ['QoS 3', (id) => publishRaw(Buffer.from(`sensors/${id}/telemetry`), 0x36)],
      ['a wildcard in a PUBLISH topic', (id) => publishRaw(Buffer.from(`sensors/${id}/+`))],
      ['ill-formed UTF-8 in a PUBLISH topic', (id) => publishRaw(Buffer.concat([Buffer.from(`sensors/${id}/`), Buffer.from([0xc3, 0x28])]))],
      ['U+0000 in a PUBLISH topic', (id) => publishRaw(Buffer.from(`sensors/${id}/tele\u0000metry`))],
      ['a SUBSCRIBE with QoS 3', () => Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x03])],
    ];

    it.each(beforeConnect)('%s', async (_name, bytes) => {
      const { gateway, refusals } = await startGateway();
      const bystander = await connect(gateway, beta, { clientId: beta.id });
      const socket = await openSocket(gateway.port);
      socket.write(bytes());
      await closedSocket(socket);
      await until(() => refusals.length > 0, 'the refusal');
      expect(refusals.map((refused) => refused.reason)).toEqual(['malformed_packet']);
      expect(refusals[0]?.detail.length).toBeGreaterThan(5);
      await publishes(bystander, beta);
    });

    it.each(afterConnect)('%s after a valid CONNECT', async (_name, bytes) => {
      const { gateway, refusals } = await startGateway();
      const bystander = await connect(gateway, beta, { clientId: beta.id });
      const socket = await openSocket(gateway.port);
      const connack = firstBytes(socket, 4);
      socket.write(connectPacket(alpha));
      expect([...(await connack)]).toEqual([0x20, 0x02, 0x00, 0x00]);
      socket.write(bytes(alpha.id));
      await closedSocket(socket);
      await until(() => refusals.length > 0, 'the refusal');
      expect(refusals).toMatchObject([{ reason: 'malformed_packet', deviceId: alpha.id, address: '127.0.0.1' }]);
      await publishes(bystander, beta);
    });
  });
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves when the peer has closed the socket; a broker that keeps it open fails the test by timeout. */
function closedSocket(socket: Socket): Promise<void> {
  socket.on('error', () => {});
  socket.resume();
  return socket.closed || socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

function firstBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= count) {
        socket.off('data', onData);
        resolve(received.subarray(0, count));
      }
    };
    socket.on('data', onData);
  });
}
