import type { RawEnvelope } from '../../contracts/envelope.js';
import { BatcherClosedError, type EnvelopeBatcher } from '../../queue/envelope-batcher.js';

/**
 * Between one OPC UA server's subscription callbacks and the queue. OPC UA has no
 * acknowledgement to withhold, so "accept = durable" (DESIGN.md) means: a value is
 * delivered once `batcher.add` resolved. While Redis is away the values wait here, in a
 * bounded FIFO, and are sent again with capped backoff; when the FIFO is full the
 * oldest waiting value is dropped and counted. `push` never waits, so node-opcua's
 * event loop (publish responses, keep-alives) is never held up by the queue.
 */

export interface ValueBacklogOptions {
  /** Values held (waiting and in flight) before the oldest waiting one is dropped. @defaultValue 10000 */
  maxValues: number;
  /** First wait before sending again after the queue refused. @defaultValue 500 */
  retryInitialDelayMs?: number;
  /** The wait doubles up to this. @defaultValue 10000 */
  retryMaxDelayMs?: number;
}

export interface ValueBacklogDeps {
  batcher: EnvelopeBatcher;
  /** Values given up: `overflow` while the queue is away, `shutdown` when close() could not deliver them. */
  dropped(count: number, why: 'overflow' | 'shutdown'): void;
  /** The queue refused a send (the first refusal of an outage only). */
  queueFailed(error: Error): void;
  /** The queue took values again after refusing. */
  queueRecovered(): void;
}

export interface ValueBacklog {
  push(envelope: RawEnvelope): void;
  /** Values not yet durable: waiting plus in flight. */
  readonly size: number;
  readonly stats: { delivered: number; dropped: number };
  /** Sends what waits once more, waits for every send in flight; the rest counts as dropped. */
  close(): Promise<void>;
}

export function createValueBacklog(options: ValueBacklogOptions, deps: ValueBacklogDeps): ValueBacklog {
  const initialDelayMs = options.retryInitialDelayMs ?? 500;
  const maxDelayMs = options.retryMaxDelayMs ?? 10_000;
  const waiting: RawEnvelope[] = [];
  const inFlight = new Set<Promise<void>>();
  const stats = { delivered: 0, dropped: 0 };
  let failures = 0;
  let paused = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  function drop(count: number, why: 'overflow' | 'shutdown'): void {
    stats.dropped += count;
    deps.dropped(count, why);
  }

  function send(envelope: RawEnvelope): void {
    const sending = deps.batcher.add(envelope).then(
      () => {
        stats.delivered += 1;
        if (failures > 0) {
          failures = 0;
          deps.queueRecovered();
        }
      },
      (error: Error) => {
        if (closed || error instanceof BatcherClosedError) {
          drop(1, 'shutdown');
          return;
        }
        // Back to the front: it is older than anything that arrived since.
        waiting.unshift(envelope);
        if (paused) return;
        paused = true;
        if (failures === 0) deps.queueFailed(error);
        failures += 1;
        const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (failures - 1));
        retryTimer = setTimeout(() => {
          paused = false;
          pump();
        }, delayMs);
        retryTimer.unref();
      },
    );
    const tracked = sending.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  function pump(): void {
    if (paused) return;
    // The batcher groups what is sent in one tick into one queue job.
    for (const envelope of waiting.splice(0)) send(envelope);
  }

  return {
    get size() {
      return waiting.length + inFlight.size;
    },
    stats,
    push(envelope) {
      if (closed) {
        drop(1, 'shutdown');
        return;
      }
      if (waiting.length + inFlight.size >= options.maxValues) {
        if (waiting.length === 0) {
          drop(1, 'overflow');
          return;
        }
        waiting.shift();
        drop(1, 'overflow');
      }
      waiting.push(envelope);
      if (!paused) queueMicrotask(pump);
    },
    close() {
      closing ??= (async () => {
        clearTimeout(retryTimer);
        paused = false;
        pump();
        closed = true;
        await Promise.allSettled([...inFlight]);
        if (waiting.length > 0) drop(waiting.splice(0).length, 'shutdown');
      })();
      return closing;
    },
  };
}
