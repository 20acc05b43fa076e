import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { expectExactlyAcknowledged } from './harness/expect-check.js';
import { FAULT_TEST_TIMEOUT_MS, scaled } from './harness/fault-scale.js';
import { readingsInDatabase } from './harness/reading-check.js';
import { settleAndCheck, waitForAcknowledged } from './harness/settle.js';

const PARTITION_MS = 30_000;

describe('fault: PostgreSQL restarted, and unreachable, while ingesting', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    // The stack reaches PostgreSQL through a proxy that can black-hole it; the checks go direct.
    env = await startFaultEnvironment({ postgresProxy: true, env: { INGEST_BATCH_MAX_MESSAGES: '50' } });
    await Promise.all([env.startBroker(), env.startWorker()]);
  });
  afterAll(async () => env?.close());

  it('stores every acknowledged reading exactly once across a PostgreSQL restart', async () => {
    const devices = await env.registerDevices(scaled(4, 10));
    const planned = planReadings(devices, scaled(250, 2000), { startMs: planStartMs(), outOfRangeEvery: 50 });
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: 5 });
    try {
      for (let restart = 1; restart <= scaled(1, 3); restart += 1) {
        await waitForAcknowledged(run, (planned.length * restart) / 5);
        // Fast shutdown: open sessions are terminated, new ones refused until it is back.
        await env.postgres.stop('graceful');
        await delay(scaled(1_000, 5_000));
        await env.postgres.start();
      }
      const check = await settleAndCheck(env, planned, run);
      expectExactlyAcknowledged(`PostgreSQL restart (${scaled(1, 3)}×)`, check, env);
    } finally {
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);

  it('stores every acknowledged reading exactly once after PostgreSQL was unreachable (black-holed) for 30 s', async () => {
    const proxy = env.proxy!;
    const devices = await env.registerDevices(scaled(4, 10));
    // Paced so readings keep arriving while the database is cut off: the broker accepts
    // them (it needs only Redis), the worker must hold them until the partition heals.
    const planned = planReadings(devices, scaled(300, 2000), { startMs: Date.now() - 7_200_000, outOfRangeEvery: 50 });
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: 40, maxInFlight: 5 });
    try {
      await waitForAcknowledged(run, planned.length * 0.1);
      proxy.blackHole();
      const ids = devices.map((device) => device.id);
      // A write whose COMMIT was on the wire at the cut may still land; then nothing does.
      await delay(2_000);
      const storedEarlyInPartition = (await readingsInDatabase(env.databaseUrl, ids)).size;
      await delay(PARTITION_MS - 2_000);
      const acknowledgedDuringPartition = run.acknowledged.size;
      expect((await readingsInDatabase(env.databaseUrl, ids)).size, 'nothing reached the database during the partition').toBe(storedEarlyInPartition);
      proxy.heal();
      const check = await settleAndCheck(env, planned, run, scaled(120_000, 600_000));
      expectExactlyAcknowledged(`PostgreSQL unreachable ${PARTITION_MS / 1000} s (acknowledged by its end: ${acknowledgedDuringPartition})`, check, env);
    } finally {
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS + PARTITION_MS);
});
