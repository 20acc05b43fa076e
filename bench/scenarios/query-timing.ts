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

/**
 * Times two ways of asking (the API and storage) in turns, request by request, `query(i)`
 * with i varying the series asked for, and returns the spread of each. In turns, because
 * run one after the other the second would find in the server's cache what the first had
 * just read from disk (a day of one series is 1,440 rows on as many pages, and 200 series
 * cover most of a day's partition). Which of the two goes first alternates.
 */
export async function timeQueriesInTurns(options: TimingOptions, queries: readonly [(repetition: number) => Promise<void>, (repetition: number) => Promise<void>]): Promise<[Timing, Timing]> {
  for (let run = 0; run < options.warmup; run += 1) for (const query of queries) await query(run);
  const times: [number[], number[]] = [[], []];
  const started = performance.now();
  for (let run = 0; run < options.repetitions; run += 1) {
    for (const which of run % 2 === 0 ? [0, 1] as const : [1, 0] as const) {
      const begun = performance.now();
      await queries[which](options.warmup + run);
      times[which].push(performance.now() - begun);
    }
    if (run + 1 >= 20 && performance.now() - started > options.budgetMs) break;
  }
  return [spread(times[0]), spread(times[1])];
}

function spread(times: number[]): Timing {
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)), max: round(times.at(-1)!), repetitions: times.length };
}
