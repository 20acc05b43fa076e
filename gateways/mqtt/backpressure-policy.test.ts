import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBackpressureGate } from './backpressure-gate.js';
import { mayAdmit, nextBackpressureState, type BackpressureLimits } from './backpressure-policy.js';

const LIMITS: BackpressureLimits = { highWaterMessages: 100, maxHeldMessages: 10, maxHoldMs: 1000 };

describe('backpressure policy', () => {
  it('slows at the high-water mark and refuses once holding stops helping', () => {
    const reading = (backlogMessages: number, heldMessages = 0, oldestHeldMs = 0) => ({ backlogMessages, heldMessages, oldestHeldMs });
    expect(nextBackpressureState('normal', reading(99), LIMITS)).toBe('normal');
    expect(nextBackpressureState('normal', reading(100), LIMITS)).toBe('slowing');
    expect(nextBackpressureState('slowing', reading(100, 9, 999), LIMITS)).toBe('slowing');
    expect(nextBackpressureState('slowing', reading(100, 10), LIMITS)).toBe('refusing');
    expect(nextBackpressureState('slowing', reading(100, 1, 1000), LIMITS)).toBe('refusing');
    expect(nextBackpressureState('slowing', reading(99, 10, 5000), LIMITS)).toBe('normal');
  });

  it('keeps refusing until the backlog has drained to half the mark', () => {
    expect(nextBackpressureState('refusing', { backlogMessages: 99, heldMessages: 0, oldestHeldMs: 0 }, LIMITS)).toBe('refusing');
    expect(nextBackpressureState('refusing', { backlogMessages: 50, heldMessages: 0, oldestHeldMs: 0 }, LIMITS)).toBe('refusing');
    expect(nextBackpressureState('refusing', { backlogMessages: 49, heldMessages: 0, oldestHeldMs: 0 }, LIMITS)).toBe('normal');
  });

  it('admits only below the mark and never while refusing', () => {
    expect(mayAdmit('normal', 99, LIMITS)).toBe(true);
    expect(mayAdmit('slowing', 100, LIMITS)).toBe(false);
    expect(mayAdmit('refusing', 0, LIMITS)).toBe(false);
  });
});

type Step = { kind: 'publish' } | { kind: 'drain'; messages: number } | { kind: 'wait'; ms: number };

const steps = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<Step>({ kind: 'publish' }) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }).map<Step>((messages) => ({ kind: 'drain', messages })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 600 }).map<Step>((ms) => ({ kind: 'wait', ms })) },
  ),
  { minLength: 50, maxLength: 400, size: 'max' },
);

describe('backpressure gate', () => {
  it('never lets the backlog pass the mark, answers every message exactly once and keeps their order', () => {
    // A small mark, so that random scripts reach it, hold, refuse and drain many times.
    const limits: BackpressureLimits = { highWaterMessages: 20, maxHeldMessages: 8, maxHoldMs: 1000 };
    let reachedRefusing = 0;
    fc.assert(
      fc.property(steps, (script) => {
        let clock = 0;
        let backlog = 0;
        let peak = 0;
        const answers = new Map<number, 'admitted' | 'refused'>();
        const admittedOrder: number[] = [];
        const gate = createBackpressureGate({ ...limits, tickMs: 60_000 }, { backlogMessages: () => backlog, now: () => clock });
        const answer = (id: number, outcome: 'admitted' | 'refused') => {
          expect(answers.has(id), `message ${id} answered twice`).toBe(false);
          answers.set(id, outcome);
        };
        let next = 0;
        for (const step of script) {
          if (step.kind === 'publish') {
            const id = next++;
            gate.enter(
              () => {
                backlog += 1;
                peak = Math.max(peak, backlog);
                admittedOrder.push(id);
                answer(id, 'admitted');
              },
              () => answer(id, 'refused'),
            );
          } else if (step.kind === 'drain') {
            backlog = Math.max(0, backlog - step.messages);
          } else {
            clock += step.ms;
          }
          gate.check();
          expect(gate.status().heldMessages).toBeLessThan(limits.maxHeldMessages);
          expect(gate.acceptsConnections()).toBe(gate.state !== 'refusing');
          if (gate.state === 'refusing') reachedRefusing += 1;
        }
        gate.close();
        expect(peak).toBeLessThanOrEqual(limits.highWaterMessages);
        expect(answers.size).toBe(next);
        expect(admittedOrder).toEqual([...admittedOrder].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
    expect(reachedRefusing).toBeGreaterThan(0);
  });

  it('holds at the mark, releases as the backlog drains, and refuses what it held too long', () => {
    let clock = 0;
    let backlog = 100;
    const outcomes: string[] = [];
    const gate = createBackpressureGate({ ...LIMITS, tickMs: 60_000 }, { backlogMessages: () => backlog, now: () => clock });
    const publish = (name: string) => gate.enter(() => { backlog += 1; outcomes.push(`${name} admitted`); }, () => outcomes.push(`${name} refused`));
    publish('a');
    publish('b');
    expect(gate.state).toBe('slowing');
    expect(gate.status()).toEqual({ state: 'slowing', backlogMessages: 100, heldMessages: 2, highWaterMessages: 100 });
    backlog = 99;
    gate.check();
    expect(outcomes).toEqual(['a admitted']);
    clock += 1000;
    gate.check();
    expect(outcomes).toEqual(['a admitted', 'b refused']);
    expect(gate.state).toBe('refusing');
    expect(gate.acceptsConnections()).toBe(false);
    publish('c');
    expect(outcomes.at(-1)).toBe('c refused');
    backlog = 49;
    gate.check();
    expect(gate.state).toBe('normal');
    publish('d');
    expect(outcomes.at(-1)).toBe('d admitted');
    gate.close();
  });

  it('refuses what it holds when closed, and everything after', () => {
    const outcomes: string[] = [];
    const gate = createBackpressureGate(LIMITS, { backlogMessages: () => 100 });
    gate.enter(() => outcomes.push('held admitted'), () => outcomes.push('held refused'));
    gate.close();
    gate.enter(() => outcomes.push('late admitted'), (detail) => outcomes.push(`late refused: ${detail}`));
    expect(outcomes).toEqual(['held refused', 'late refused: the broker is shutting down']);
  });
});
