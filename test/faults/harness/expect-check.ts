import { expect } from 'vitest';
import { formatCheck } from './reading-check.js';
import type { SettledCheck } from './settle.js';

/** Prints a line into the test output, where CI logs show it next to the test's name. */
export function report(line: string): void {
  // eslint-disable-next-line no-console -- the fault tests' loss/duplicate counts are meant for the CI log
  console.log(line);
}

/**
 * Logs the scenario's line for the CI output and asserts the promise of the project:
 * every acknowledged reading is stored (or, if out of range, quarantined) exactly once.
 * Readings stored without an acknowledgement are allowed: the device resent them.
 */
export function expectExactlyAcknowledged(fault: string, check: SettledCheck, env: { unexpectedExits(): string[] }): void {
  const { waiting, delayed, active, failed } = check.queue;
  report(
    `${formatCheck(fault, check)}, jobs left: waiting=${waiting} delayed=${delayed} active=${active} failed=${failed}, ` +
      `device connects=${check.devices.connects} resends=${check.devices.resends}`,
  );
  expect(env.unexpectedExits(), 'stack processes that died on their own').toEqual([]);
  expect(check.acknowledged, 'devices ended with readings never acknowledged').toBe(check.n);
  expect(check.missingSample, `${check.missing} acknowledged readings missing`).toEqual([]);
  expect(check.missing).toBe(0);
  expect(check.duplicates).toBe(0);
  expect(check.queue.failed, 'jobs parked as failed').toBe(0);
  // Everything acknowledged is present, and nothing else is: stored + quarantined = N.
  expect(check.stored + check.quarantined).toBe(check.n);
}
