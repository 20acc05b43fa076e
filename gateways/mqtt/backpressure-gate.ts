import { EventEmitter } from 'node:events';
import { mayAdmit, nextBackpressureState, type BackpressureLimits, type BackpressureState } from './backpressure-policy.js';

export interface BackpressureGateOptions extends BackpressureLimits {
  /** How often held messages are re-checked (released, or refused once held too long). @defaultValue 50 */
  tickMs?: number;
}

export interface BackpressureGateDeps {
  /**
   * Messages waiting to be stored, read without a round trip (queue/queue-backlog.ts
   * plus the batcher's pending count). `admit` must raise it before it returns.
   */
  backlogMessages(): number;
  now?: () => number;
}

export interface BackpressureStatus {
  state: BackpressureState;
  backlogMessages: number;
  heldMessages: number;
  highWaterMessages: number;
}

export interface BackpressureGateEvents {
  /** The state changed (to `status.state`). */
  state: [status: BackpressureStatus];
  /** A message was held instead of being queued at once: a device is being slowed. */
  held: [];
}

export interface BackpressureGate {
  readonly state: BackpressureState;
  readonly events: EventEmitter<BackpressureGateEvents>;
  status(): BackpressureStatus;
  /**
   * Calls `admit` now, or later once the backlog is under the mark, or calls `refuse`
   * (now, or when holding stops helping). Exactly one of them is called, once.
   */
  enter(admit: () => void, refuse: (detail: string) => void): void;
  /** Releases held messages the backlog now has room for, or refuses them; the timer calls it every `tickMs`. */
  check(): void;
  /** Whether a new connection may be accepted (not while refusing). */
  acceptsConnections(): boolean;
  /** Stops the timer and refuses every held message: nothing held is acknowledged later. */
  close(): void;
}

interface Held {
  admit(): void;
  refuse(detail: string): void;
  sinceMs: number;
}

export function createBackpressureGate(options: BackpressureGateOptions, deps: BackpressureGateDeps): BackpressureGate {
  const now = deps.now ?? Date.now;
  const events = new EventEmitter<BackpressureGateEvents>();
  let state: BackpressureState = 'normal';
  let held: Held[] = [];
  let closed = false;

  const status = (): BackpressureStatus => ({
    state, backlogMessages: deps.backlogMessages(), heldMessages: held.length, highWaterMessages: options.highWaterMessages,
  });

  function update(): void {
    const before = state;
    const oldest = held[0];
    state = nextBackpressureState(state, {
      backlogMessages: deps.backlogMessages(),
      heldMessages: held.length,
      oldestHeldMs: oldest === undefined ? 0 : now() - oldest.sinceMs,
    }, options);
    if (state !== before) events.emit('state', status());
  }

  function refuseHeld(detail: string): void {
    const refused = held;
    held = [];
    for (const message of refused) message.refuse(detail);
  }

  function settle(): void {
    update();
    if (state === 'refusing') {
      refuseHeld(`held while the backlog (${deps.backlogMessages()} messages) stayed over the high-water mark of ${options.highWaterMessages}`);
    } else {
      // Oldest first, one at a time: each admission raises the backlog, so it stops at the mark.
      while (held.length > 0 && mayAdmit(state, deps.backlogMessages(), options)) held.shift()!.admit();
    }
    update();
  }

  const timer = setInterval(settle, options.tickMs ?? 50);
  timer.unref();

  return {
    events,
    status,
    get state() {
      return state;
    },
    enter(admit, refuse) {
      if (closed) return refuse('the broker is shutting down');
      update();
      if (state === 'refusing') return refuse(`refusing until the backlog (${deps.backlogMessages()} messages) drains to half the high-water mark of ${options.highWaterMessages}`);
      // Behind held messages, a new one waits its turn: the order of one device's messages is kept.
      if (held.length === 0 && mayAdmit(state, deps.backlogMessages(), options)) return admit();
      held.push({ admit, refuse, sinceMs: now() });
      events.emit('held');
      if (held.length >= options.maxHeldMessages) settle();
    },
    check: () => {
      if (!closed) settle();
    },
    acceptsConnections() {
      if (!closed) update();
      return !closed && state !== 'refusing';
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      refuseHeld('the broker is shutting down');
    },
  };
}
