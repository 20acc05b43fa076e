import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import type { IngestJobData } from '../../contracts/queue.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createIngestQueue, type IngestQueue } from '../../queue/ingest-queue.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { NO_SECRET } from '../../storage/ingest-devices-store.js';
import { migrate } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';
import { eventually } from '../../test/support/api-client.js';
import { nbirth, ndeath, tahuPayload } from '../../test/support/sparkplug-encoder.js';
import { testRedisUrl } from '../../test/support/services.js';
import { createMqttGateway, type MqttGateway, type Refused } from './mqtt-gateway.js';

describe('MQTT gateway: Sparkplug B edge nodes', () => {
  let db: Database;
  const edge = { id: `edge-${randomUUID().slice(0, 8)}`, secret: generateDeviceSecret() };
  const open: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase({ dataDir: undefined });
    await migrate(db);
    await insertDevice(db, { id: edge.id, domain: 'grid', name: 'edge node', secretHash: await hashDeviceSecret(edge.secret) });
    await insertDevice(db, { id: `${edge.id}.meter1`, domain: 'grid', name: 'child', secretHash: NO_SECRET });
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  afterAll(async () => db?.close());

  async function start(): Promise<{ gateway: MqttGateway; queue: IngestQueue; refusals: Refused[] }> {
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix: `spgw-${randomUUID().slice(0, 8)}`, attempts: 1 });
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 100, maxPayloadChars: 1 << 20, maxWaitMs: 5, send: (envelopes) => queue.add(envelopes) });
    const gateway = await createMqttGateway({ host: '127.0.0.1', port: 0, wsPort: undefined, maxPacketBytes: 65536 }, { db, batcher });
    open.push(queue, gateway);
    const refusals: Refused[] = [];
    gateway.events.on('refused', (refused) => refusals.push(refused));
    return { gateway, queue, refusals };
  }

  const connect = (gateway: MqttGateway, options: mqtt.IClientOptions = {}) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.port}`, { username: edge.id, password: edge.secret, reconnectPeriod: 0, ...options });

  async function queued(queue: IngestQueue): Promise<RawEnvelope[]> {
    const jobs = await queue.queue.getJobs(['waiting']);
    return jobs.flatMap((job) => (job.data as IngestJobData).envelopes).sort((a, b) => a.receivedAtMs - b.receivedAtMs || (a.order?.index ?? 0) - (b.order?.index ?? 0));
  }

  it('accepts the edge node’s own Sparkplug topics and numbers them in the order accepted', async () => {
    const { gateway, queue } = await start();
    const client = await connect(gateway);
    await client.publishAsync(`spBv1.0/Tianjin/NBIRTH/${edge.id}`, nbirth(0, []), { qos: 1 });
    await client.publishAsync(`spBv1.0/Tianjin/DBIRTH/${edge.id}/meter1`, tahuPayload({ seq: 1, metrics: [] }), { qos: 1 });
    await client.publishAsync(`spBv1.0/Tianjin/NDATA/${edge.id}`, tahuPayload({ seq: 2, metrics: [] }), { qos: 1 });
    await client.publishAsync(`sensors/${edge.id}/telemetry`, '{"metrics":{"voltage":230}}', { qos: 1 });
    await client.endAsync();
    const envelopes = await queued(queue);
    // Only Sparkplug messages are numbered: ordering matters to their sessions alone.
    expect(envelopes.map((envelope) => [envelope.topic?.split('/')[2], envelope.order?.index])).toEqual([
      ['NBIRTH', 0], ['DBIRTH', 1], ['NDATA', 2], ['telemetry', undefined],
    ]);
    expect(new Set(envelopes.slice(0, 3).map((envelope) => envelope.order?.connectionId)).size).toBe(1);
  });

  it.each([
    [`spBv1.0/Tianjin/NDATA/other-edge`],
    [`spBv1.0/Tianjin/NDATA/${edge.id}/dev/extra`],
    [`spBv1.0/Tianjin/NDATA`],
    [`spBv1.0/Tianjin/BOGUS/${edge.id}`],
  ])('refuses a publish to %s and closes the connection', async (topic) => {
    const { gateway, refusals } = await start();
    const client = await connect(gateway);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(topic, tahuPayload({ seq: 0, metrics: [] }), { qos: 1 });
    await closed;
    client.end(true);
    expect(refusals).toMatchObject([{ reason: 'topic_not_allowed', deviceId: edge.id, detail: `publish to "${topic}"` }]);
  });

  it('publishes the NDEATH will through the queue when the connection drops, numbered after the rest', async () => {
    const { gateway, queue } = await start();
    const will = { topic: `spBv1.0/Tianjin/NDEATH/${edge.id}`, payload: ndeath(7), qos: 1 as const, retain: false };
    const client = await connect(gateway, { will });
    await client.publishAsync(`spBv1.0/Tianjin/NBIRTH/${edge.id}`, nbirth(7, []), { qos: 1 });
    client.stream.destroy(); // no DISCONNECT: the broker publishes the will (MQTT-3.1.2-8)
    client.end(true);
    const envelopes = await eventually(async () => {
      const found = await queued(queue);
      return found.length === 2 ? found : undefined;
    }, 10_000, 'the will in the queue');
    expect(envelopes.map((envelope) => [envelope.topic, envelope.order?.index])).toEqual([[`spBv1.0/Tianjin/NBIRTH/${edge.id}`, 0], [will.topic, 1]]);
    expect(Buffer.from(envelopes[1]!.payload, 'base64')).toEqual(will.payload);
  });

  it('tells a reconnect’s first message which connection came before, and how far it went', async () => {
    const { gateway, queue } = await start();
    const first = await connect(gateway);
    await first.publishAsync(`spBv1.0/Tianjin/NBIRTH/${edge.id}`, nbirth(1, []), { qos: 1 });
    await first.publishAsync(`spBv1.0/Tianjin/NDATA/${edge.id}`, tahuPayload({ seq: 1, metrics: [] }), { qos: 1 });
    await first.endAsync();
    const second = await connect(gateway);
    await second.publishAsync(`spBv1.0/Tianjin/NBIRTH/${edge.id}`, nbirth(2, []), { qos: 1 });
    await second.endAsync();
    const [birth, data, rebirth] = await queued(queue);
    expect(rebirth?.order).toMatchObject({ index: 0, previous: { connectionId: birth?.order?.connectionId, lastIndex: 1 } });
    expect(data?.order?.index).toBe(1);
  });

  it('refuses a will on another device’s topic at CONNECT (return code 5)', async () => {
    const { gateway, refusals } = await start();
    const will = { topic: 'spBv1.0/Tianjin/NDEATH/someone-else', payload: Buffer.from('x'), qos: 1 as const, retain: false };
    await expect(connect(gateway, { will })).rejects.toMatchObject({ code: 5 });
    expect(refusals).toMatchObject([{ reason: 'topic_not_allowed', detail: 'will on "spBv1.0/Tianjin/NDEATH/someone-else"' }]);
  });

  it('lets an edge node subscribe to its commands and to host state, not to others’ topics', async () => {
    const { gateway } = await start();
    const client = await connect(gateway);
    const granted = await client.subscribeAsync([`spBv1.0/Tianjin/NCMD/${edge.id}`, `spBv1.0/+/DCMD/${edge.id}/#`, 'spBv1.0/STATE/scada-1'], { qos: 0 });
    expect(granted.map((grant) => grant.qos)).toEqual([0, 0, 0]);
    await expect(client.subscribeAsync('spBv1.0/Tianjin/NDATA/other-edge', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync('spBv1.0/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    await client.endAsync();
  });

  it('does not let a Sparkplug device behind an edge node log in on its own', async () => {
    const { gateway, refusals } = await start();
    await expect(connect(gateway, { username: `${edge.id}.meter1`, password: '' })).rejects.toMatchObject({ code: 4 });
    expect(refusals).toMatchObject([{ reason: 'bad_credentials', detail: expect.stringContaining('no MQTT credentials') }]);
  });
});
