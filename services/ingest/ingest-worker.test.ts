import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE, METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { createIngestQueue } from '../../queue/ingest-queue.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { loadMetricDictionary, type MetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate } from '../../storage/migrate.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { eventually } from '../../test/support/api-client.js';
import { createTestDatabase, testRedisUrl } from '../../test/support/services.js';
import { createIngestWorker, ingestBackoffMs } from './ingest-worker.js';
import { storeEnvelopes } from './store-envelopes.js';

function envelope(deviceId: string, payload: object | string): RawEnvelope {
  return {
    id: randomUUID(), source: 'mqtt', deviceId, topic: `sensors/${deviceId}/telemetry`, receivedAtMs: Date.now(),
    payloadEncoding: 'utf8', payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

describe('ingest worker on a real PostgreSQL server and Redis', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let dictionary: MetricDictionary;
  const deviceId = `w-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = createPgDatabase({ connectionString: testDb.url });
    await migrate(db);
    dictionary = await loadMetricDictionary(db, [...METRIC_CATALOGUE.keys()]);
    await insertDevice(db, { id: deviceId, domain: 'water', name: 'worker test', secretHash: 'x' });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const deps = () => ({ db, dictionary, catalogue: BUILTIN_CATALOGUE, maxFutureSkewMs: 600_000 });
  const count = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0]?.n;

  it('retries a batch whose write failed (table briefly missing) until it is stored, exactly once', async () => {
    const prefix = `w-${randomUUID().slice(0, 8)}`;
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix });
    const worker = createIngestWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 1, maxBackoffMs: 200 }, deps());
    const failures: number[] = [];
    worker.events.on('failed', ({ attemptsMade }) => failures.push(attemptsMade));
    try {
      await db.query('ALTER TABLE readings RENAME TO readings_away');
      await queue.add([envelope(deviceId, { ts: '2026-11-01T00:00:00Z', metrics: { flow: 12.5 } })]);
      await eventually(async () => (failures.length >= 2 ? true : undefined), 20_000, 'two failed attempts');
      await db.query('ALTER TABLE readings_away RENAME TO readings');
      await eventually(async () => ((await count(`SELECT count(*)::int AS n FROM readings WHERE time = '2026-11-01T00:00:00Z'`)) === 1 ? true : undefined), 20_000, 'the retried batch');
      expect((await queue.counts()).failed).toBe(0);
      await eventually(async () => (worker.totals.stored === 1 ? true : undefined), 10_000, 'the running totals');
      expect(worker.totals).toEqual({ stored: 1, duplicates: 0, quarantined: 0, quarantinedByReason: {} });
    } finally {
      await db.query('ALTER TABLE IF EXISTS readings_away RENAME TO readings');
      await worker.close();
      await queue.close();
    }
  });

  it('running the same job twice (a retry after a crash past the commit) stores and quarantines once', async () => {
    const batch = [
      envelope(deviceId, { ts: '2026-11-02T00:00:00Z', metrics: { pressure: 300, ph: 99 } }),
      envelope(deviceId, 'not json'),
      envelope('nobody', { metrics: { flow: 1 } }),
    ];
    const first = await storeEnvelopes(batch, deps());
    const second = await storeEnvelopes(batch, deps());
    expect(first).toEqual({ stored: 1, duplicates: 0, quarantined: 3, quarantinedByReason: { device_unknown: 1, payload_not_json: 1, value_out_of_range: 1 } });
    // The second run writes nothing new, and counts nothing twice.
    expect(second).toEqual({ stored: 0, duplicates: 1, quarantined: 0, quarantinedByReason: {} });
    expect(await count(`SELECT count(*)::int AS n FROM quarantine WHERE envelope_id = ANY($1::text[])`, [batch.map((e) => e.id)])).toBe(3);
    const reasons = await db.query<{ reason: string }>('SELECT reason FROM quarantine WHERE envelope_id = ANY($1::text[]) ORDER BY reason', [batch.map((e) => e.id)]);
    expect(reasons.rows.map((row) => row.reason)).toEqual(['device_unknown', 'payload_not_json', 'value_out_of_range']);
  });

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 10, 30].map((attempt) => ingestBackoffMs(attempt, 60_000))).toEqual([500, 1000, 2000, 4000, 60_000, 60_000]);
  });
});
