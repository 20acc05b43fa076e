import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/api-client.js';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { expectExactlyAcknowledged } from './harness/expect-check.js';
import { FAULT_TEST_TIMEOUT_MS, scaled } from './harness/fault-scale.js';
import { settleAndCheck, waitForAcknowledged } from './harness/settle.js';

const RESTARTS = scaled(1, 4);

describe('fault: the broker process killed and restarted while devices publish', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    env = await startFaultEnvironment({ env: { INGEST_BATCH_MAX_MESSAGES: '50' } });
  });
  afterAll(async () => env?.close());

  it('stores every acknowledged reading exactly once: devices resend what the dead broker never acknowledged', async () => {
    let [broker] = await Promise.all([env.startBroker(), env.startWorker()]);
    const devices = await env.registerDevices(scaled(4, 10));
    const planned = planReadings(devices, scaled(250, 2000), { startMs: planStartMs(), outOfRangeEvery: 50 });
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: 5 });
    try {
      for (let restart = 1; restart <= RESTARTS; restart += 1) {
        await waitForAcknowledged(run, (planned.length * restart) / (RESTARTS + 2));
        const connectsBefore = run.connects;
        // SIGKILL: batches the broker held in memory die with it, unacknowledged.
        expect(await broker!.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
        const acknowledgedAtKill = run.acknowledged.size;
        await delay(500);
        broker = await env.startBroker();
        await eventually(async () => (run.connects >= connectsBefore + devices.length ? true : undefined), scaled(30_000, 300_000), 'devices reconnecting');
        // The fault was mid-stream: readings were still to be acknowledged when it hit.
        expect(acknowledgedAtKill).toBeLessThan(planned.length);
      }
      const check = await settleAndCheck(env, planned, run);
      expectExactlyAcknowledged(`broker SIGKILL + restart (${RESTARTS}×)`, check, env);
    } finally {
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);
});
