/**
 * `FAULT_SOAK=1` (npm run test:soak) runs the same fault tests with more readings and
 * the fault repeated; without it they are fast enough for every CI run.
 */
export const SOAK = process.env.FAULT_SOAK === '1';

/** The fast value, or the soak one under FAULT_SOAK=1. */
export function scaled<T>(fast: T, soak: T): T {
  return SOAK ? soak : fast;
}

/** Test timeout: generous, since a soak run repeats its fault. */
export const FAULT_TEST_TIMEOUT_MS = scaled(120_000, 900_000);
