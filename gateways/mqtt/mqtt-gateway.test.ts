import { randomUUID } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IngestJobData } from '../../contracts/queue.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createIngestQueue, type IngestQueue } from '../../queue/ingest-queue.js';
import { findFreePort } from '../../runtime/free-port.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { migrate } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';
import { testRedisUrl } from '../../test/support/services.js';
import { createMqttGateway, type MqttGateway, type Refused } from './mqtt-gateway.js';

const MAX_PACKET_BYTES = 4096;

describe('MQTT gateway (aedes) with a real queue and no worker behind it', () => {
  let db: Database;
  const device = { id: `gw-${randomUUID().slice(0, 8)}`, secret: generateDeviceSecret() };
  const open: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase({ dataDir: undefined });
    await migrate(db);
    await insertDevice(db, { id: device.id, domain: 'safety', name: 'gateway test', secretHash: await hashDeviceSecret(device.secret) });
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  afterAll(async () => db?.close());

  async function startGateway(redisUrl = testRedisUrl()): Promise<{ gateway: MqttGateway; queue: IngestQueue; refusals: Refused[] }> {
    const queue = createIngestQueue({ redisUrl, prefix: `gw-${randomUUID().slice(0, 8)}`, attempts: 1, addTimeoutMs: 1000 });
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 100, maxPayloadChars: 1 << 20, maxWaitMs: 5, send: (envelopes) => queue.add(envelopes) });
    const gateway = await createMqttGateway({ host: '127.0.0.1', port: 0, wsPort: undefined, maxPacketBytes: MAX_PACKET_BYTES }, { db, batcher });
    open.push(queue, gateway);
    const refusals: Refused[] = [];
    gateway.events.on('refused', (refused) => refusals.push(refused));
    return { gateway, queue, refusals };
  }

  const connect = (gateway: MqttGateway, extra: mqtt.IClientOptions = {}) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.port}`, { username: device.id, password: device.secret, reconnectPeriod: 0, ...extra });

  it('sends PUBACK only once the message is a job in Redis', async () => {
    const { gateway, queue } = await startGateway();
    const client = await connect(gateway);
    const payload = JSON.stringify({ metrics: { gas_lel: 4 } });
    await client.publishAsync(`sensors/${device.id}/telemetry`, payload, { qos: 1 });
    // No worker runs: whatever the queue holds now was written before the PUBACK.
    const jobs = await queue.queue.getJobs(['waiting']);
    const envelopes = jobs.flatMap((job) => (job.data as IngestJobData).envelopes);
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0]).toMatchObject({ source: 'mqtt', deviceId: device.id, topic: `sensors/${device.id}/telemetry`, payload, payloadEncoding: 'utf8' });
    await client.endAsync();
  });

  it('withholds PUBACK while Redis is unreachable and closes the connection, so the device resends later', async () => {
    const deadPort = await findFreePort();
    const { gateway, refusals } = await startGateway(`redis://127.0.0.1:${deadPort}`);
    const client = await connect(gateway);
    let acknowledged = false;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`sensors/${device.id}/telemetry`, JSON.stringify({ metrics: { gas_lel: 5 } }), { qos: 1 }, (error) => {
      if (!error) acknowledged = true;
    });
    await closed;
    expect(acknowledged).toBe(false);
    // mqtt.js keeps the unacknowledged message for resending after it reconnects.
    expect(Object.keys(client.outgoing)).toHaveLength(1);
    expect(refusals).toMatchObject([{ reason: 'queue_unavailable', deviceId: device.id }]);
    client.end(true);
  });

  it('closes a connection that announces a packet above the limit, before reading its body', async () => {
    const { gateway, refusals } = await startGateway();
    const client = await connect(gateway);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(`sensors/${device.id}/telemetry`, 'x'.repeat(MAX_PACKET_BYTES * 2), { qos: 0 });
    await closed;
    expect(refusals).toMatchObject([{ reason: 'packet_too_large', deviceId: device.id }]);
    client.end(true);

    // Other devices are unaffected: a normal publish still works.
    const next = await connect(gateway);
    await next.publishAsync(`sensors/${device.id}/telemetry`, JSON.stringify({ metrics: { gas_lel: 1 } }), { qos: 1 });
    await next.endAsync();
  });

  it('refuses a malformed remaining length (more than four bytes) from a raw socket', async () => {
    const { gateway, refusals } = await startGateway();
    const socket = connectTcp(gateway.port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await closed;
    expect(refusals.map((refused) => refused.reason)).toEqual(['packet_too_large']);
  });

  it('grants subscriptions inside the device namespace and refuses others with 0x80', async () => {
    const { gateway, refusals } = await startGateway();
    const client = await connect(gateway);
    const granted = await client.subscribeAsync(`sensors/${device.id}/commands`, { qos: 1 });
    expect(granted.map((grant) => grant.qos)).toEqual([1]);
    // mqtt.js turns a 0x80 grant into an error; the connection itself stays up.
    await expect(client.subscribeAsync('sensors/+/telemetry', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync('#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(client.connected).toBe(true);
    expect(refusals.map((refused) => refused.reason)).toEqual(['topic_not_allowed', 'topic_not_allowed']);
    await client.endAsync();
  });

  it('does not keep device telemetry as retained broker state', async () => {
    const { gateway } = await startGateway();
    const publisher = await connect(gateway);
    await publisher.publishAsync(`sensors/${device.id}/telemetry`, JSON.stringify({ metrics: { tilt: 1 } }), { qos: 1, retain: true });
    await publisher.endAsync();
    const subscriber = await connect(gateway);
    const received: string[] = [];
    subscriber.on('message', (topic) => received.push(topic));
    await subscriber.subscribeAsync(`sensors/${device.id}/#`, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
    await subscriber.endAsync();
  });
});
