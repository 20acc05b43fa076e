import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE, METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { createIngestQueue } from '../../queue/ingest-queue.js';
import { insertRule } from '../../storage/alert-rules-store.js';
import { listAlerts } from '../../storage/alerts-store.js';
import type { Database } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import { loadMetricDictionary, type MetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate } from '../../storage/migrate.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { eventually } from '../../test/support/api-client.js';
import { createTestDatabase, testRedisUrl } from '../../test/support/services.js';
import { createIngestWorker } from '../ingest/ingest-worker.js';
import type { StoreEnvelopesDeps } from '../ingest/store-envelopes.js';
import type { AlertChanges } from './evaluate-batch.js';
import { evaluateAlertRules } from './evaluate-batch.js';

const T0 = Date.parse('2026-11-21T08:00:00Z');

function gasEnvelope(deviceId: string, seconds: number, value: number): RawEnvelope {
  return {
    id: randomUUID(), source: 'mqtt', deviceId, topic: `sensors/${deviceId}/telemetry`, receivedAtMs: Date.now(), payloadEncoding: 'utf8',
    payload: JSON.stringify({ ts: new Date(T0 + seconds * 1000).toISOString(), metrics: { gas_lel: value } }),
  };
}

describe('alert rules evaluated by two ingest worker processes on one queue', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  const pools: Database[] = [];
  let dictionary: MetricDictionary;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    pools.push(createPgDatabase({ connectionString: testDb.url }), createPgDatabase({ connectionString: testDb.url }));
    await migrate(pools[0]!);
    dictionary = await loadMetricDictionary(pools[0]!, [...METRIC_CATALOGUE.keys()]);
  });
  afterAll(async () => {
    await Promise.allSettled(pools.map((db) => db.close()));
    await testDb?.drop();
  });

  it('opens one alert per rule and series however the jobs are spread, and clears it once', async () => {
    const db = pools[0]!;
    const deviceId = `gas-${randomUUID().slice(0, 8)}`;
    await insertDevice(db, { id: deviceId, domain: 'safety', name: 'gas detector', secretHash: 'x' });
    await insertRule(db, {
      id: `gas-${randomUUID()}`, name: 'gas', scope: { metric: 'gas_lel', deviceId }, condition: { type: 'above', trigger: 20, clear: 15 },
      forSeconds: 0, severity: 'critical', enabled: true,
    });
    const prefix = `alerts-${randomUUID().slice(0, 8)}`;
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix });
    const seen: AlertChanges = { opened: [], cleared: [] };
    const deps = (pool: Database): StoreEnvelopesDeps => ({
      db: pool, dictionary, catalogue: BUILTIN_CATALOGUE, maxFutureSkewMs: 600_000, evaluateAlerts: evaluateAlertRules,
      alertsChanged: (changes) => { seen.opened.push(...changes.opened); seen.cleared.push(...changes.cleared); },
    });
    const workers = pools.map((pool) => createIngestWorker({ redisUrl: testRedisUrl(), prefix, concurrency: 4 }, deps(pool)));
    try {
      // 40 one-reading jobs, all above the trigger, taken by either process in any order.
      for (let i = 0; i < 40; i += 1) await queue.add([gasEnvelope(deviceId, i, 30 + (i % 7))]);
      await eventually(async () => (workers.reduce((sum, worker) => sum + worker.totals.stored, 0) === 40 ? true : undefined), 30_000, '40 readings stored');
      expect(seen.opened).toHaveLength(1);
      expect(await listAlerts(db, { deviceId, limit: 10 })).toEqual([expect.objectContaining({ state: 'open', severity: 'critical', domain: 'safety' })]);

      await queue.add([gasEnvelope(deviceId, 100, 5)]);
      await eventually(async () => (seen.cleared.length === 1 ? true : undefined), 30_000, 'the alert cleared');
      expect((await listAlerts(db, { deviceId, limit: 10 })).map((alert) => [alert.state, alert.clearedBy])).toEqual([['cleared', 'condition']]);
    } finally {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      await queue.close();
    }
  });
});
