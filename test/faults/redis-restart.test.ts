import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { expectExactlyAcknowledged, report } from './harness/expect-check.js';
import { FAULT_TEST_TIMEOUT_MS, scaled } from './harness/fault-scale.js';
import { settleAndCheck, waitForAcknowledged } from './harness/settle.js';
import { closeWriteGate, installWriteGate } from './harness/write-gate.js';

const RESTARTS = scaled(1, 4);

describe('fault: Redis (AOF, appendfsync everysec) killed and restarted while ingesting', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    // docker-compose.yml's setting. A killed redis-server loses nothing under it: Redis
    // write(2)s the AOF before it replies, so the page cache holds every acknowledged
    // job; `always` adds fsync, which matters only when the whole machine goes down.
    env = await startFaultEnvironment({ redisFsync: 'everysec', env: { INGEST_BATCH_MAX_MESSAGES: '50' } });
  });
  afterAll(async () => env?.close());

  it('stores every acknowledged reading exactly once: the AOF kept every queued job across the crash', async () => {
    await Promise.all([env.startBroker(), env.startWorker()]);
    const devices = await env.registerDevices(scaled(4, 10));
    await installWriteGate(env.databaseUrl);
    const planned = planReadings(devices, scaled(250, 2000), { startMs: planStartMs(), outOfRangeEvery: 50 });
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: 5 });
    try {
      for (let restart = 1; restart <= RESTARTS; restart += 1) {
        // Held writes keep acknowledged jobs waiting in Redis when it dies: only the AOF can save them.
        const gate = await closeWriteGate(env.databaseUrl);
        // Mid-stream: a share of the readings is through, the rest still to come.
        await waitForAcknowledged(run, (planned.length * restart) / (RESTARTS + 2));
        const queued = (await env.queuedReadings()).size;
        expect(queued, 'acknowledged readings waiting in Redis at the crash').toBeGreaterThan(0);
        // SIGKILL: no shutdown save; only what the AOF holds survives.
        await env.redis.stop('crash');
        report(`Redis SIGKILL ${restart}: ${queued} acknowledged readings were queued in it`);
        await delay(1_000);
        await env.redis.start();
        await gate.open();
      }
      const check = await settleAndCheck(env, planned, run);
      expectExactlyAcknowledged(`Redis SIGKILL + restart (${RESTARTS}×)`, check, env);
    } finally {
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);
});
