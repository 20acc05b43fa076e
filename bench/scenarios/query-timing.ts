import { percentile } from '../storage-dataset.js';

/** Latency of one query over repetitions, in ms. */
export interface Timing {
  p50: number;
  p95: number;
  max: number;
  repetitions: number;
}

export interface TimingOptions {
  /** Untimed runs first (plans cached, connections open). */
  warmup: number;
  repetitions: number;
  /** Stop early after this long, with at least 20 repetitions: a slow query must not hold the run for an hour. */
  budgetMs: number;
}

/** Runs `query(i)` `repetitions` times one after another (i varies the series asked for) and returns the spread. */
export async function timeQuery(options: TimingOptions, query: (repetition: number) => Promise<void>): Promise<Timing> {
  for (let run = 0; run < options.warmup; run += 1) await query(run);
  const times: number[] = [];
  const started = performance.now();
  for (let run = 0; run < options.repetitions; run += 1) {
    const begun = performance.now();
    await query(options.warmup + run);
    times.push(performance.now() - begun);
    if (times.length >= 20 && performance.now() - started > options.budgetMs) break;
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)), max: round(times.at(-1)!), repetitions: times.length };
}
