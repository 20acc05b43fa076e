/**
 * When the broker slows or refuses devices (docs/backpressure.md). Pure: the gate
 * (backpressure-gate.ts) feeds it numbers and acts on the answer.
 *
 * - `normal`: the backlog is under the high-water mark; messages are queued at once.
 * - `slowing`: the backlog reached the mark; new messages are held without PUBACK, and
 *   a held message also stops the broker reading its connection, so devices slow down
 *   to the rate the workers store.
 * - `refusing`: holding did not help (too many messages held, or one held too long):
 *   held and new messages are refused without PUBACK (the connection closes, the
 *   device resends later) and new connections get CONNACK 3 "server unavailable",
 *   until the backlog has drained to half the mark.
 */
export type BackpressureState = 'normal' | 'slowing' | 'refusing';
export const BACKPRESSURE_STATES: readonly BackpressureState[] = ['normal', 'slowing', 'refusing'];

export interface BackpressureLimits {
  /** Messages waiting to be stored (queued and in the broker's memory) at which devices are slowed. */
  highWaterMessages: number;
  /** Messages held at once, all connections together, beyond which the broker refuses. */
  maxHeldMessages: number;
  /** Longest a message is held before the broker refuses. */
  maxHoldMs: number;
}

export interface BackpressureReading {
  /** Messages waiting to be stored: queued in Redis and accepted into the broker's batch. */
  backlogMessages: number;
  /** Messages held (not yet accepted), waiting for the backlog to shrink. */
  heldMessages: number;
  /** How long the oldest held message has waited; 0 when none is held. */
  oldestHeldMs: number;
}

/**
 * A refusing broker resumes at half the mark, not at the mark: reopening at the mark
 * would let reconnecting devices fill it again at once, and every device would spend
 * its time reconnecting instead of sending.
 */
export const RESUME_FRACTION = 0.5;

export function nextBackpressureState(current: BackpressureState, reading: BackpressureReading, limits: BackpressureLimits): BackpressureState {
  const overMark = reading.backlogMessages >= limits.highWaterMessages;
  if (current === 'refusing') {
    return reading.backlogMessages < limits.highWaterMessages * RESUME_FRACTION ? 'normal' : 'refusing';
  }
  if (!overMark) return 'normal';
  if (reading.heldMessages >= limits.maxHeldMessages || reading.oldestHeldMs >= limits.maxHoldMs) return 'refusing';
  return 'slowing';
}

/** Whether one more message may be queued now: only under the mark, so the backlog never passes it. */
export function mayAdmit(state: BackpressureState, backlogMessages: number, limits: BackpressureLimits): boolean {
  return state !== 'refusing' && backlogMessages < limits.highWaterMessages;
}
