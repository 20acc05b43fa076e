import type { BenchContext } from './scenario.js';

/** A `--key=N` tuning option of the run: a positive whole number, or `fallback` when absent. */
export function wholeNumberOption(context: BenchContext, key: string, fallback: number): number {
  const raw = context.options?.[key];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${key} must be a positive whole number, got ${raw}`);
  return value;
}
