import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { CanonicalReading } from '../../contracts/reading.js';
import type { Database } from '../../storage/database.js';
import { loadMetricDictionary } from '../../storage/metric-dictionary.js';
import { api, registerDevice } from '../../test/support/api-client.js';
import { testRedisUrl } from '../../test/support/services.js';
import { openSse } from '../../test/support/sse-client.js';
import { compareEventIds, EVENT_ID_PATTERN } from '../live/live-entries.js';
import { createLiveFeed, type LiveFeed } from '../live/live-feed.js';
import { createLivePublisher, liveStreamKey, type LivePublisher } from '../live/live-publisher.js';
import { createRoleGuard } from './authenticate.js';
import { createApi, type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

const ADMIN = `admin-${randomUUID()}`;

describe('HTTP API: the live stream of readings (SSE on a Redis stream)', () => {
  let db: Database;
  let server: Api;
  let base: string;
  let feed: LiveFeed;
  let publisher: LivePublisher;
  const prefix = `test-${randomUUID()}`;

  const reading = (deviceId: string, metric: string, value: number): CanonicalReading => ({ time: new Date('2026-11-21T00:00:00Z'), deviceId, metric, value, quality: 'good' });

  beforeAll(async () => {
    feed = createLiveFeed({ redisUrl: testRedisUrl(), prefix, blockMs: 200 });
    publisher = createLivePublisher({ redisUrl: testRedisUrl(), prefix });
    ({ db, server, base } = await startTestApi({ adminKey: ADMIN, context: () => ({ live: feed, liveHeartbeatMs: 100 }) }));
    await registerDevice(base, ADMIN, { id: 'air-1', domain: 'environment' });
    await registerDevice(base, ADMIN, { id: 'pipe-1', domain: 'water' });
  });
  afterAll(async () => {
    await server?.close();
    await feed?.close();
    await publisher?.close();
    await db?.close();
  });

  it('filters by domain and metric, and sends heartbeats while quiet', async () => {
    const stream = await openSse(`${base}/api/v1/stream?domain=water`, { authorization: `Bearer ${ADMIN}` });
    const pm = await openSse(`${base}/api/v1/stream?metric=pm10,pm2_5`, { authorization: `Bearer ${ADMIN}` });
    publisher.published([reading('air-1', 'pm2_5', 10), reading('pipe-1', 'pressure', 300), reading('air-1', 'pm10', 20)]);
    const water = await stream.next((event) => event.event === 'reading');
    expect(JSON.parse(water.data)).toMatchObject({ device: 'pipe-1', metric: 'pressure', value: 300, unit: 'kPa' });
    await pm.next((event) => event.data.includes('"pm10"'));
    expect(pm.events.map((event) => JSON.parse(event.data).metric)).toEqual(['pm2_5', 'pm10']);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(stream.events).toHaveLength(1);
    expect(stream.comments.filter((comment) => comment.startsWith('heartbeat')).length).toBeGreaterThanOrEqual(2);
    stream.close();
    pm.close();
  });

  it('resumes after Last-Event-ID with exactly the entries after it, then continues live', async () => {
    const first = await openSse(`${base}/api/v1/stream?device=air-1`, { authorization: `Bearer ${ADMIN}` });
    publisher.published([reading('air-1', 'pm2_5', 1)]);
    const seen = await first.next((event) => event.event === 'reading');
    first.close();
    publisher.published([reading('air-1', 'pm2_5', 2), reading('pipe-1', 'flow', 5), reading('air-1', 'pm2_5', 3)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const resumed = await openSse(`${base}/api/v1/stream?device=air-1&lastEventId=${seen.id}`, { authorization: `Bearer ${ADMIN}` });
    await resumed.next((event) => event.data.includes('"value":3'));
    publisher.published([reading('air-1', 'pm2_5', 4)]);
    await resumed.next((event) => event.data.includes('"value":4'));
    expect(resumed.events.map((event) => JSON.parse(event.data).value)).toEqual([2, 3, 4]);
    const ids = resumed.events.map((event) => event.id!);
    expect([...ids].sort(compareEventIds)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    resumed.close();
  });

  it('resumes inside a batch: one event per reading, and Last-Event-ID of the second reading gives the third', async () => {
    const watch = await openSse(`${base}/api/v1/stream?device=pipe-1`, { authorization: `Bearer ${ADMIN}` });
    publisher.published([reading('pipe-1', 'flow', 10), reading('pipe-1', 'flow', 11), reading('pipe-1', 'flow', 12)]);
    await watch.next((event) => event.data.includes('"value":12'));
    watch.close();
    expect(watch.events.map((event) => JSON.parse(event.data).value)).toEqual([10, 11, 12]);
    const second = watch.events[1]!.id!;
    expect(second).toMatch(EVENT_ID_PATTERN);
    const resumed = await openSse(`${base}/api/v1/stream?device=pipe-1`, { authorization: `Bearer ${ADMIN}`, 'last-event-id': second });
    await resumed.next((event) => event.data.includes('"value":12'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(resumed.events.map((event) => JSON.parse(event.data).value)).toEqual([12]);
    resumed.close();
  });

  it('still reads entries written one reading each (before batch entries), and skips a damaged entry', async () => {
    const redis = new Redis(testRedisUrl());
    try {
      const watch = await openSse(`${base}/api/v1/stream?device=air-1`, { authorization: `Bearer ${ADMIN}` });
      const legacy = { device: 'air-1', metric: 'pm10', time: '2026-11-21T00:00:00.000Z', value: 77, quality: 'good' };
      const legacyId = await redis.xadd(liveStreamKey(prefix), '*', 'r', JSON.stringify(legacy));
      await redis.xadd(liveStreamKey(prefix), '*', 'b', '[["air-1","pm10",', 'n', '1');
      publisher.published([reading('air-1', 'pm10', 78)]);
      await watch.next((event) => event.data.includes('"value":78'));
      expect(watch.events.map((event) => [event.id, JSON.parse(event.data).value])).toEqual([[legacyId, 77], [expect.stringMatching(/\.0$/), 78]]);
      watch.close();
      // A bare entry id from before the upgrade resumes after that entry.
      const resumed = await openSse(`${base}/api/v1/stream?device=air-1&lastEventId=${legacyId}`, { authorization: `Bearer ${ADMIN}` });
      await resumed.next((event) => event.data.includes('"value":78'));
      expect(resumed.events.map((event) => JSON.parse(event.data).value)).toEqual([78]);
      resumed.close();
    } finally {
      redis.disconnect();
    }
  });

  it('ends open streams when the API closes, so shutdown does not wait for clients', async () => {
    const other = await createApi({ host: '127.0.0.1', port: 0 }, {
      db, dictionary: await loadMetricDictionary(db, []), catalogue: METRIC_CATALOGUE, maxReadings: 10, live: feed,
      requireRole: createRoleGuard({ db, bootstrapAdminKey: ADMIN }), mqtt: { port: 1883, wsPort: undefined }, readiness: [],
    });
    const stream = await openSse(`http://127.0.0.1:${other.port}/api/v1/stream`, { authorization: `Bearer ${ADMIN}` });
    expect(stream.status).toBe(200);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    stream.close();
  });

  it('is a 400 for bad filters', async () => {
    for (const [query, name] of [['device=a;b', 'device'], ['metric=PM25!', 'metric'], ['domain=space', 'domain'], ['lastEventId=abc', 'lastEventId'], ['lastEventId=1-0.1234567', 'lastEventId'], ['lastEventId=1-0.', 'lastEventId']]) {
      const answer = await api<{ errors: { name: string }[] }>(base, 'GET', `/api/v1/stream?${query}`, { key: ADMIN });
      expect(answer.status).toBe(400);
      expect(answer.body.errors[0]?.name).toBe(name);
    }
  });
});
