import { setTimeout as delay } from 'node:timers/promises';
import { startLoad, type LoadReport } from '../load/run-load.js';
import type { LoadPlan } from '../load/load-plan.js';
import { cpuPercentBetween, sampleCpu, type WatchedProcess } from './process-cpu.js';
import type { BenchContext } from './scenario.js';

export interface SustainedOptions {
  plan: Omit<LoadPlan, 'durationMs'>;
  /** Publishing before the window opens: connections warm, queue and pools in steady state. */
  warmupMs: number;
  /** The measured window. */
  windowMs: number;
  /** Processes whose CPU is reported (the generator is added). */
  watched: readonly WatchedProcess[];
  /** Exact count of what is stored; absent for the broker alone (nothing is stored). */
  countStored?: () => Promise<number>;
  /** How long the backlog may take to drain once publishing stops. @defaultValue 120000 */
  drainTimeoutMs?: number;
}

export interface SustainedResult {
  /** Acknowledged messages per second in the window. */
  ackedMessagesPerS: number;
  /** Stored readings per second in the window (rows counted in the database). */
  storedPerS: number | undefined;
  /** Readings acknowledged but not yet stored when the window closed. */
  backlogAtWindowEnd: number | undefined;
  /** CPU per process in the window, % of one core (`machine`: all processes). */
  cpuPercent: Record<string, number>;
  load: LoadReport;
  /** Readings acknowledged over the whole run (messages × readings per message). */
  sentReadings: number;
  /** Readings stored once the backlog drained. */
  storedReadings: number | undefined;
  connectMs: number;
}

/**
 * Runs the load for warm-up + window, measuring acknowledged and stored rates over the
 * window only, then waits for the backlog to drain and counts what was stored.
 */
export async function measureSustained(context: BenchContext, options: SustainedOptions): Promise<SustainedResult> {
  // Publishing goes on a little past the window, so the window never sees the load wind down.
  const marginMs = Math.min(5_000, Math.max(1_000, options.windowMs / 10));
  const load = startLoad({ ...options.plan, durationMs: options.warmupMs + options.windowMs + marginMs });
  const watched = [...options.watched, { name: 'load generator', pid: load.pid }];
  const { connectMs } = await load.connected;
  context.progress(`${options.plan.deviceIds.length} connections up in ${(connectMs / 1000).toFixed(1)} s; warming up ${options.warmupMs / 1000} s`);
  const ticker = setInterval(() => {
    const { acked } = load.latest();
    context.progress(`acknowledged ${acked.toLocaleString('en')} messages`);
  }, 10_000);
  try {
    await delay(options.warmupMs);
    const cpuStart = await sampleCpu(watched);
    const ackStart = load.latest();
    const storedStart = await options.countStored?.();
    const windowStart = performance.now();
    await delay(options.windowMs);
    const cpuEnd = await sampleCpu(watched);
    const ackEnd = load.latest();
    const storedEnd = await options.countStored?.();
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const ackedMessagesPerS = Math.round((ackEnd.acked - ackStart.acked) / ((ackEnd.atMs - ackStart.atMs) / 1000));
    const rpm = options.plan.readingsPerMessage;
    const storedPerS = storedStart === undefined || storedEnd === undefined ? undefined : Math.round((storedEnd - storedStart) / windowSeconds);
    const backlogAtWindowEnd = storedEnd === undefined ? undefined : Math.max(0, ackEnd.acked * rpm - storedEnd);
    context.progress(`window closed: ${ackedMessagesPerS.toLocaleString('en')} messages/s acknowledged${storedPerS === undefined ? '' : `, ${storedPerS.toLocaleString('en')} readings/s stored`}`);

    const report = await load.done;
    const sentReadings = report.acked * rpm;
    let storedReadings: number | undefined;
    if (options.countStored !== undefined) {
      storedReadings = await waitForDrain(context, options.countStored, sentReadings, options.drainTimeoutMs ?? 120_000);
    }
    return { ackedMessagesPerS, storedPerS, backlogAtWindowEnd, cpuPercent: cpuPercentBetween(cpuStart, cpuEnd), load: report, sentReadings, storedReadings, connectMs };
  } finally {
    clearInterval(ticker);
  }
}

/** Polls the count until it reaches `expected` or stops moving for `stallMs`; returns the last count. */
export async function waitForDrain(context: BenchContext, count: () => Promise<number>, expected: number, stallMs: number): Promise<number> {
  let last = await count();
  let lastChange = performance.now();
  let lastPrinted = performance.now();
  while (last < expected && performance.now() - lastChange < stallMs) {
    await delay(500);
    const now = await count();
    if (now !== last) lastChange = performance.now();
    last = now;
    if (performance.now() - lastPrinted > 10_000) {
      context.progress(`draining the backlog: ${now.toLocaleString('en')} of ${expected.toLocaleString('en')} stored`);
      lastPrinted = performance.now();
    }
  }
  return last;
}
