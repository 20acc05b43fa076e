/**
 * Rare, discrete events (a gas leak, a smoke alarm, a lifted manhole cover, a storm)
 * as a pure function of time.
 *
 * Time is cut into slots; each slot holds at most one event, decided by a hash of
 * (seed, slot). An event may run past the end of its slot, so a sample looks back over
 * as many slots as the longest event can span. No state: an event is there or not
 * whatever order the instants are sampled in.
 */

import { uniformAt } from './noise.js';

export interface EventSchedule {
  /** Length of one slot. */
  slotMs: number;
  /** Chance that a slot holds an event, in [0, 1]. */
  probability: number;
  minDurationMs: number;
  maxDurationMs: number;
  /**
   * Restricts start times to part of the local day (maintenance crews work by day).
   * Returns whether an event may start at the given epoch ms. @defaultValue always
   */
  mayStartAt?: (atMs: number) => boolean;
}

export interface ActiveEvent {
  startMs: number;
  durationMs: number;
  /** Elapsed fraction of the event, in [0, 1). */
  progress: number;
  /** Per-event random size in [0, 1): how bad this leak, how big this storm. */
  magnitude: number;
}

/** Events (any number) whose span covers `atMs`, oldest first. */
export function activeEvents(seed: number, schedule: EventSchedule, atMs: number): ActiveEvent[] {
  const { slotMs, probability, minDurationMs, maxDurationMs } = schedule;
  const currentSlot = Math.floor(atMs / slotMs);
  const firstSlot = Math.floor((atMs - maxDurationMs) / slotMs);
  const found: ActiveEvent[] = [];
  for (let slot = firstSlot; slot <= currentSlot; slot += 1) {
    if (uniformAt(seed, slot) >= probability) continue;
    const startMs = (slot + uniformAt(seed + 1, slot)) * slotMs;
    if (schedule.mayStartAt !== undefined && !schedule.mayStartAt(startMs)) continue;
    const durationMs = minDurationMs + (maxDurationMs - minDurationMs) * uniformAt(seed + 2, slot);
    if (atMs < startMs || atMs >= startMs + durationMs) continue;
    found.push({
      startMs,
      durationMs,
      progress: (atMs - startMs) / durationMs,
      magnitude: uniformAt(seed + 3, slot),
    });
  }
  return found;
}

/** True when any event of the schedule covers `atMs`. */
export function isEventActive(seed: number, schedule: EventSchedule, atMs: number): boolean {
  return activeEvents(seed, schedule, atMs).length > 0;
}

/**
 * Envelope of an event over its life: a quick rise, a plateau, a slower decay, in [0, 1].
 * Leaks and alarms ramp up as gas accumulates and die away after ventilation.
 */
export function eventEnvelope(progress: number): number {
  if (progress < 0.15) return progress / 0.15;
  if (progress < 0.6) return 1;
  return Math.max(0, 1 - (progress - 0.6) / 0.4);
}

/**
 * Response of a catchment to a storm (a unit hydrograph shape): zero at the start,
 * peak 1 at `progress` = 0.25, long recession tail.
 */
export function hydrograph(progress: number): number {
  const x = progress / 0.25;
  return x * Math.exp(1 - x);
}
