import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { expectExactlyAcknowledged, report } from './harness/expect-check.js';
import { FAULT_TEST_TIMEOUT_MS, scaled } from './harness/fault-scale.js';
import { readingsInDatabase } from './harness/reading-check.js';
import { settleAndCheck, waitForAcknowledged } from './harness/settle.js';
import { closeWriteGate, installWriteGate, transactionOutcome, waitForOpenWrite } from './harness/write-gate.js';

const STOPS = scaled(1, 4);

describe('fault: graceful shutdown (SIGTERM) under load', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    env = await startFaultEnvironment({ env: { INGEST_BATCH_MAX_MESSAGES: '50', WORKER_CONCURRENCY: '2' } });
  });
  afterAll(async () => env?.close());

  it('finishes the batch being written, leaves every acknowledged reading in the database or the queue, and loses nothing', async () => {
    // One process with every role, as `npm start` runs it: broker, worker and API stop together.
    let stack = await env.startAllInOne();
    const devices = await env.registerDevices(scaled(4, 10));
    await installWriteGate(env.databaseUrl);
    const planned = planReadings(devices, scaled(200, 1500), { startMs: planStartMs(), outOfRangeEvery: 50 });
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: scaled(5, 60) });
    try {
      for (let stop = 1; stop <= STOPS; stop += 1) {
        // A batch write waits inside its transaction when the signal comes.
        const gate = await closeWriteGate(env.databaseUrl);
        await waitForAcknowledged(run, (planned.length * stop) / (STOPS + 2));
        const write = await waitForOpenWrite(env.databaseUrl, [stack.pid]);
        const exited = stack.kill('SIGTERM');
        // Shutdown waits for the batch: still running a second later, then done once the write can finish.
        expect(await Promise.race([exited, delay(1_000, 'still stopping')])).toBe('still stopping');
        await gate.open();
        // Exit code 0: every shutdown step succeeded (runtime/run-process.ts exits 1 otherwise).
        expect(await exited).toEqual({ code: 0, signal: null });
        // The batch being written when the signal came was committed, not abandoned.
        expect(await transactionOutcome(env.databaseUrl, write)).toBe('committed');
        // With the process gone, every acknowledged reading is in the database or still
        // queued in Redis for the next worker: none was held only in memory.
        const acknowledged = [...run.acknowledged];
        const [inDatabase, queued] = await Promise.all([readingsInDatabase(env.databaseUrl, devices.map((device) => device.id)), env.queuedReadings()]);
        const leftBehind = acknowledged.filter((key) => !inDatabase.has(key) && !queued.has(key));
        report(`SIGTERM ${stop}: acknowledged=${acknowledged.length}, in database=${inDatabase.size}, queued=${queued.size}, left behind=${leftBehind.length}`);
        expect(leftBehind).toEqual([]);
        expect(acknowledged.length, 'the stop came mid-stream').toBeLessThan(planned.length);
        stack = await env.startAllInOne();
      }
      const check = await settleAndCheck(env, planned, run);
      expectExactlyAcknowledged(`graceful SIGTERM under load (${STOPS}×)`, check, env);
    } finally {
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);
});
