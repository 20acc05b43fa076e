import type { RawEnvelope } from '../contracts/envelope.js';

export interface EnvelopeBatcherOptions {
  /** Send the batch when it holds this many envelopes. @defaultValue 500 */
  maxEnvelopes: number;
  /** …or when its payloads add up to this many characters, keeping jobs small in Redis. @defaultValue 1048576 */
  maxPayloadChars: number;
  /** …or when its first envelope has waited this long. @defaultValue 10 */
  maxWaitMs: number;
  /** Stores one batch durably (a queue job); rejects when it could not. */
  send(envelopes: RawEnvelope[]): Promise<void>;
}

export interface EnvelopeBatcher {
  /**
   * Resolves when the batch holding `envelope` is stored, rejects when it could not be.
   * Gateways acknowledge the device only after it resolves (DESIGN.md, "Accept = durable").
   */
  add(envelope: RawEnvelope): Promise<void>;
  /** Envelopes accepted but not yet stored. */
  readonly pending: number;
  /** Sends what is buffered, waits for every send in flight, then refuses new envelopes. */
  close(): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class BatcherClosedError extends Error {
  constructor() {
    super('the envelope batcher is closed; the message was not accepted');
    this.name = 'BatcherClosedError';
  }
}

export function createEnvelopeBatcher(options: EnvelopeBatcherOptions): EnvelopeBatcher {
  let envelopes: RawEnvelope[] = [];
  let waiters: Waiter[] = [];
  let payloadChars = 0;
  let timer: NodeJS.Timeout | undefined;
  let pending = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (envelopes.length === 0) return;
    const batch = envelopes;
    const batchWaiters = waiters;
    envelopes = [];
    waiters = [];
    payloadChars = 0;
    const sending = options.send(batch).then(
      () => batchWaiters.forEach((waiter) => waiter.resolve()),
      (error: unknown) => {
        const reason = error instanceof Error ? error : new Error(String(error));
        batchWaiters.forEach((waiter) => waiter.reject(reason));
      },
    );
    const tracked = sending.finally(() => {
      pending -= batch.length;
      inFlight.delete(tracked);
    });
    inFlight.add(tracked);
  }

  return {
    get pending() {
      return pending;
    },
    add(envelope) {
      if (closed) return Promise.reject(new BatcherClosedError());
      return new Promise<void>((resolve, reject) => {
        envelopes.push(envelope);
        waiters.push({ resolve, reject });
        payloadChars += envelope.payload.length;
        pending += 1;
        if (envelopes.length >= options.maxEnvelopes || payloadChars >= options.maxPayloadChars) {
          flush();
        } else if (timer === undefined) {
          timer = setTimeout(flush, options.maxWaitMs);
          timer.unref();
        }
      });
    },
    close() {
      closing ??= (async () => {
        closed = true;
        flush();
        await Promise.allSettled([...inFlight]);
      })();
      return closing;
    },
  };
}
