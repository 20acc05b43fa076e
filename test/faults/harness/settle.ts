import { setTimeout as delay } from 'node:timers/promises';
import type { PlannedReading, PublishRun } from './devices.js';
import { scaled } from './fault-scale.js';
import type { FaultEnvironment } from './fault-environment.js';
import { checkReadings, type ReadingCheck } from './reading-check.js';

async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the devices got PUBACK for `count` readings: the point "mid-stream" where a test injects its fault. */
export async function waitForAcknowledged(run: PublishRun, count: number, timeoutMs = scaled(30_000, 600_000)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (run.acknowledged.size < count) {
    if (Date.now() > deadline) throw new Error(`only ${run.acknowledged.size} of ${count} readings were acknowledged within ${timeoutMs} ms`);
    await delay(50);
  }
}

/**
 * After the fault: waits until the devices have every reading acknowledged and the
 * queue has nothing left to do (no waiting, delayed or active job), then reads the
 * database back. A job parked as failed does not count as done: the check then reports
 * its readings as missing, and `queue.failed` says why.
 */
export interface SettledCheck extends ReadingCheck {
  /** The queue when the check was made. */
  queue: Awaited<ReturnType<FaultEnvironment['queueCounts']>>;
  /** Device connections (reconnects show the fault reached the devices) and their own resends. */
  devices: { connects: number; resends: number };
}

export async function settleAndCheck(env: FaultEnvironment, planned: readonly PlannedReading[], run: PublishRun, timeoutMs = scaled(60_000, 600_000)): Promise<SettledCheck> {
  const deadline = Date.now() + timeoutMs;
  await within(run.done, timeoutMs, 'acknowledging every reading');
  for (;;) {
    const queue = await env.queueCounts();
    if (queue.waiting + queue.delayed + queue.active === 0 || Date.now() > deadline) {
      const check = await checkReadings(env.databaseUrl, planned, run.acknowledged);
      return { ...check, queue, devices: { connects: run.connects, resends: run.resends } };
    }
    await delay(100);
  }
}
