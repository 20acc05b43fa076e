import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'bullmq';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_QUEUE_NAME } from '../../contracts/queue.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createIngestQueue } from '../../queue/ingest-queue.js';
import { createQueueBacklog } from '../../queue/queue-backlog.js';
import { redisConnection } from '../../queue/redis-connection.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { migrate } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';
import { eventually } from '../../test/support/api-client.js';
import { testRedisUrl } from '../../test/support/services.js';
import { createBackpressureGate } from './backpressure-gate.js';
import { createMqttGateway, type MqttGateway, type Refused } from './mqtt-gateway.js';

const HIGH_WATER = 5;

describe('MQTT gateway backpressure with a real queue and no worker until the test starts one', () => {
  let db: Database;
  const device = { id: `bp-${randomUUID().slice(0, 8)}`, secret: generateDeviceSecret() };
  const open: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase({ dataDir: undefined });
    await migrate(db);
    await insertDevice(db, { id: device.id, domain: 'safety', name: 'backpressure test', secretHash: await hashDeviceSecret(device.secret) });
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  afterAll(async () => db?.close());

  /** The stack's wiring (runtime/stack.ts) with a tiny mark: one message per job, read every 20 ms. */
  async function startGateway(maxHeldMessages: number) {
    const prefix = `bp-${randomUUID().slice(0, 8)}`;
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix });
    const backlog = createQueueBacklog(queue, { refreshMs: 20, unknownJobMessages: 1, maxListedJobs: HIGH_WATER });
    const batcher = createEnvelopeBatcher({
      maxEnvelopes: 1, maxPayloadChars: 1 << 20, maxWaitMs: 5,
      send: async (envelopes) => {
        await queue.add(envelopes);
        backlog.added(envelopes.length);
      },
    });
    const backpressure = createBackpressureGate(
      { highWaterMessages: HIGH_WATER, maxHeldMessages, maxHoldMs: 60_000, tickMs: 10 },
      { backlogMessages: () => backlog.messages + batcher.pending },
    );
    const gateway = await createMqttGateway({ host: '127.0.0.1', port: 0, wsPort: undefined, maxPacketBytes: 4096 }, { db, batcher, backpressure });
    open.push(queue, backlog, gateway);
    const refusals: Refused[] = [];
    gateway.events.on('refused', (refused) => refusals.push(refused));
    const startWorker = () => {
      const worker = new Worker(INGEST_QUEUE_NAME, async () => ({ stored: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {} }), {
        connection: redisConnection(testRedisUrl()), prefix,
      });
      open.push(worker);
    };
    return { gateway, queue, refusals, startWorker };
  }

  const connect = (gateway: MqttGateway) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.port}`, { username: device.id, password: device.secret, reconnectPeriod: 0 });
  const topic = `sensors/${device.id}/telemetry`;

  it('withholds PUBACK at the mark and sends it once the workers made room', async () => {
    const { gateway, queue, startWorker } = await startGateway(100);
    const client = await connect(gateway);
    for (let i = 0; i < HIGH_WATER; i += 1) await client.publishAsync(topic, `{"metrics":{"gas_lel":${i}}}`, { qos: 1 });
    let acknowledged = false;
    const held = client.publishAsync(topic, '{"metrics":{"gas_lel":9}}', { qos: 1 }).then(() => (acknowledged = true));
    await eventually(async () => (gateway.backpressure?.state === 'slowing' ? true : undefined), 5000, 'slowing');
    await delay(300);
    expect(acknowledged).toBe(false);
    expect(gateway.backpressure?.status()).toMatchObject({ state: 'slowing', heldMessages: 1 });
    expect((await queue.counts()).waiting).toBe(HIGH_WATER); // nothing past the mark was queued
    startWorker();
    await held;
    expect(acknowledged).toBe(true);
    await eventually(async () => (gateway.backpressure?.status().backlogMessages === 0 ? true : undefined), 5000, 'the backlog drained');
    expect(gateway.backpressure?.state).toBe('normal');
    await client.endAsync();
  });

  it('refuses without PUBACK when holding does not help, answers CONNECT with CONNACK 3, and recovers once drained', async () => {
    const { gateway, refusals, startWorker } = await startGateway(2);
    const client = await connect(gateway);
    for (let i = 0; i < HIGH_WATER; i += 1) await client.publishAsync(topic, `{"metrics":{"gas_lel":${i}}}`, { qos: 1 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acknowledged = 0;
    for (const value of [10, 11]) client.publish(topic, `{"metrics":{"gas_lel":${value}}}`, { qos: 1 }, (error) => void (error ? undefined : (acknowledged += 1)));
    await closed;
    expect(acknowledged).toBe(0);
    // mqtt.js keeps both for resending after it reconnects.
    expect(Object.keys(client.outgoing)).toHaveLength(2);
    client.end(true);
    expect(gateway.backpressure?.state).toBe('refusing');
    expect(refusals.map((refusal) => refusal.reason)).toEqual(['backlog_full', 'backlog_full']);

    await expect(connect(gateway)).rejects.toMatchObject({ code: 3 });
    expect(refusals.at(-1)).toMatchObject({ reason: 'server_busy', deviceId: device.id });

    startWorker();
    await eventually(async () => (gateway.backpressure?.state === 'normal' ? true : undefined), 5000, 'back to normal');
    const again = await connect(gateway);
    await again.publishAsync(topic, '{"metrics":{"gas_lel":12}}', { qos: 1 });
    await again.endAsync();
  });
});
