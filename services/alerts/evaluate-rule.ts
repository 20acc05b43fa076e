import type { AlertRule, RuleCondition } from './alert-rule.js';

/**
 * The state of one rule on one series (device × metric): a small JSON document the store
 * keeps per (rule, series) so that any worker process can continue where another stopped.
 *
 * - `normal`: the condition does not hold.
 * - `pending`: the trigger condition has held at every reading since `pendingSinceMs`, but
 *   not yet for the rule's `forSeconds`.
 * - `firing`: an alert is open (or acknowledged); it stays until a reading meets the
 *   *clear* level, which is further from the trigger than the trigger itself (hysteresis).
 */
export interface RuleState {
  phase: 'normal' | 'pending' | 'firing';
  pendingSinceMs?: number;
  /** Source time of the last reading evaluated: later readings only (see {@link evaluateReading}). */
  lastTimeMs?: number;
  lastValue?: number;
  /** Flatline: start and reference value of the current run of unchanged readings. */
  runStartMs?: number;
  runValue?: number;
}

export interface RulePoint {
  timeMs: number;
  value: number;
}

export type Transition =
  | { kind: 'open'; timeMs: number; value: number }
  | { kind: 'clear'; timeMs: number; value: number };

export interface Evaluation {
  state: RuleState;
  /** At most one transition per reading. */
  transition?: Transition;
  /** The reading was older than or as old as the last one evaluated and was skipped. */
  late?: true;
}

export const INITIAL_STATE: RuleState = Object.freeze({ phase: 'normal' }) as RuleState;

interface Verdict {
  /** The trigger level is met. */
  trigger: boolean;
  /** The clear level is met (only consulted while firing). */
  clear: boolean;
}

function rateOf(condition: Extract<RuleCondition, { type: 'rate' }>, state: RuleState, point: RulePoint): number | undefined {
  if (state.lastTimeMs === undefined || state.lastValue === undefined) return undefined;
  const seconds = (point.timeMs - state.lastTimeMs) / 1000;
  const rate = (point.value - state.lastValue) / seconds;
  if (condition.direction === 'rise') return rate;
  if (condition.direction === 'fall') return -rate;
  return Math.abs(rate);
}

function verdictOf(condition: RuleCondition, state: RuleState, point: RulePoint): Verdict {
  const v = point.value;
  switch (condition.type) {
    case 'above':
      return { trigger: v >= condition.trigger, clear: v < (condition.clear ?? condition.trigger) };
    case 'below':
      return { trigger: v <= condition.trigger, clear: v > (condition.clear ?? condition.trigger) };
    case 'outside': {
      const lowClear = condition.lowClear ?? condition.low;
      const highClear = condition.highClear ?? condition.high;
      return { trigger: v <= condition.low || v >= condition.high, clear: v > lowClear && v < highClear };
    }
    case 'rate': {
      const rate = rateOf(condition, state, point);
      // The first reading of a series has no rate: it neither triggers nor clears.
      if (rate === undefined) return { trigger: false, clear: false };
      return { trigger: rate >= condition.perSecond, clear: rate < (condition.clearPerSecond ?? condition.perSecond) };
    }
    case 'flatline': {
      const tolerance = condition.tolerance ?? 0;
      const inRun = state.runValue !== undefined && Math.abs(v - state.runValue) <= tolerance;
      const runStart = inRun ? (state.runStartMs ?? point.timeMs) : point.timeMs;
      const flat = inRun && point.timeMs - runStart >= condition.seconds * 1000;
      return { trigger: flat, clear: !inRun };
    }
  }
}

function track(condition: RuleCondition, state: RuleState, point: RulePoint): RuleState {
  const next: RuleState = { ...state, lastTimeMs: point.timeMs, lastValue: point.value };
  if (condition.type === 'flatline') {
    const tolerance = condition.tolerance ?? 0;
    const inRun = state.runValue !== undefined && Math.abs(point.value - state.runValue) <= tolerance;
    if (!inRun) {
      next.runStartMs = point.timeMs;
      next.runValue = point.value;
    }
  }
  return next;
}

/**
 * One step of the state machine for a reading of a series the rule applies to.
 *
 * Late readings: the machine only moves forward in source time. A reading whose time is
 * not after the last evaluated one (a late or replayed reading, a retry of a committed job)
 * is stored as usual but does not change rule state — it returns `late: true` and the same
 * state. Evaluating history out of order would open or clear alerts for a past that the
 * operator has already seen; doing nothing is the predictable choice, and it makes
 * re-evaluation of the same batch idempotent.
 */
export function evaluateReading(rule: Pick<AlertRule, 'condition' | 'forSeconds'>, state: RuleState, point: RulePoint): Evaluation {
  if (state.lastTimeMs !== undefined && point.timeMs <= state.lastTimeMs) return { state, late: true };
  const verdict = verdictOf(rule.condition, state, point);
  const next = track(rule.condition, state, point);
  const holdMs = rule.forSeconds * 1000;

  if (state.phase === 'firing') {
    if (!verdict.clear) return { state: next };
    return { state: { ...next, phase: 'normal', pendingSinceMs: undefined }, transition: { kind: 'clear', timeMs: point.timeMs, value: point.value } };
  }
  if (!verdict.trigger) return { state: { ...next, phase: 'normal', pendingSinceMs: undefined } };
  const since = state.phase === 'pending' && state.pendingSinceMs !== undefined ? state.pendingSinceMs : point.timeMs;
  if (point.timeMs - since >= holdMs) {
    return { state: { ...next, phase: 'firing', pendingSinceMs: undefined }, transition: { kind: 'open', timeMs: point.timeMs, value: point.value } };
  }
  return { state: { ...next, phase: 'pending', pendingSinceMs: since } };
}

/** Runs a series' readings (any order) through the machine in source-time order. */
export function evaluateSeries(rule: Pick<AlertRule, 'condition' | 'forSeconds'>, state: RuleState, points: readonly RulePoint[]): { state: RuleState; transitions: Transition[] } {
  const transitions: Transition[] = [];
  let current = state;
  for (const point of [...points].sort((a, b) => a.timeMs - b.timeMs)) {
    const step = evaluateReading(rule, current, point);
    current = step.state;
    if (step.transition !== undefined) transitions.push(step.transition);
  }
  return { state: current, transitions };
}
