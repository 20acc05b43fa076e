import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { expectExactlyAcknowledged } from './harness/expect-check.js';
import { FAULT_TEST_TIMEOUT_MS, scaled, SOAK } from './harness/fault-scale.js';
import { settleAndCheck, waitForAcknowledged } from './harness/settle.js';
import { watchStalls } from './harness/stall-watch.js';
import type { StackProcess } from './harness/stack-process.js';
import { closeWriteGate, installWriteGate, transactionOutcome, waitForOpenWrite } from './harness/write-gate.js';

const ROUNDS = scaled(1, 4);

describe('fault: a worker process SIGKILLed in the middle of writing a batch', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    env = await startFaultEnvironment({ env: { INGEST_BATCH_MAX_MESSAGES: '50', WORKER_CONCURRENCY: '2' } });
  });
  afterAll(async () => env?.close());

  /** SIGKILLs the process of a write held at the gate, and checks PostgreSQL rolled that write back. */
  async function killMidWrite(candidates: readonly StackProcess[]): Promise<StackProcess> {
    const write = await waitForOpenWrite(env.databaseUrl, candidates.map((worker) => worker.pid));
    const writer = candidates.find((worker) => worker.pid === write.writerPid)!;
    expect(await writer.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // The kill hit an open transaction that had written rows: PostgreSQL rolled it back.
    expect(await transactionOutcome(env.databaseUrl, write)).toBe('aborted');
    return writer;
  }

  it('stores every acknowledged reading exactly once, also a batch whose workers were killed twice', async () => {
    // Two worker replicas, as in production: the survivor carries on.
    const [, ...started] = await Promise.all([env.startBroker(), env.startWorker(), env.startWorker()]);
    const workers = new Set<StackProcess>(started);
    const devices = await env.registerDevices(scaled(4, 10));
    await installWriteGate(env.databaseUrl);
    const stalls = await watchStalls(env.redis.url, env.queuePrefix);
    const planned = planReadings(devices, scaled(150, 1000), { startMs: planStartMs(), outOfRangeEvery: 50 });
    // A soak paces the devices so the stream outlasts all its kill rounds.
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: scaled(2, 100) });
    try {
      for (let round = 1; round <= ROUNDS; round += 1) {
        // Batch writes now wait inside their transactions: rows inserted, not committed.
        // Closed before the stream reaches its mark, so jobs taken meanwhile wait there.
        const gate = await closeWriteGate(env.databaseUrl);
        await waitForAcknowledged(run, (planned.length * round) / (ROUNDS + 2));
        const stalledBefore = stalls.total();
        workers.delete(await killMidWrite([...workers]));
        // The killed worker's job goes back to the head of the queue once its lock
        // expires (the survivor is busy at the gate); a new worker takes it first and is
        // killed writing it too: the job has now stalled twice, which BullMQ's default
        // (maxStalledCount 1) would fail, parking its acknowledged readings.
        await stalls.waitForTotal(stalledBefore + 1);
        const replacement = await env.startWorker();
        await killMidWrite([replacement]);
        await gate.open();
        // A soak keeps two replicas, so it can kill again.
        if (SOAK) workers.add(await env.startWorker());
      }
      const check = await settleAndCheck(env, planned, run);
      expectExactlyAcknowledged(`worker SIGKILL mid-batch (${ROUNDS * 2}×)`, check, env);
      expect(stalls.maxStallsOfOneJob(), 'one job lost its worker twice').toBeGreaterThanOrEqual(2);
    } finally {
      await run.close();
      await stalls.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);
});
