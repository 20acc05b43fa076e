import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { CanonicalReading } from '../../contracts/reading.js';

/** The Redis stream of committed readings, under the stack's queue prefix. */
export function liveStreamKey(prefix: string): string {
  return `${prefix}:live:readings`;
}

/** One reading as it travels on the live stream. */
export interface LiveReading {
  device: string;
  metric: string;
  time: string;
  value: number;
  quality: string;
}

export interface LivePublisherOptions {
  redisUrl: string;
  prefix: string;
  /** Entries the stream keeps for resumption (approximate trim). @defaultValue 100000 */
  maxLen?: number;
}

export interface LivePublisher {
  readonly events: EventEmitter<{ error: [error: Error] }>;
  /** Appends committed readings; never throws: the live stream is best-effort, storage is the record. */
  published(readings: readonly CanonicalReading[]): void;
  close(): Promise<void>;
}

/**
 * Publishes readings after their transaction committed, so a live client never sees a
 * reading the API cannot return. A Redis stream rather than pub/sub: entry ids are the
 * SSE event ids, and a client that reconnects with Last-Event-ID gets what it missed
 * (as far back as `maxLen`). A retried job may publish a reading twice; clients key
 * readings by (device, metric, time), as storage does.
 */
export function createLivePublisher(options: LivePublisherOptions): LivePublisher {
  const events = new EventEmitter<{ error: [error: Error] }>();
  events.on('error', () => {});
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', (error: Error) => events.emit('error', error));
  const key = liveStreamKey(options.prefix);
  const maxLen = String(options.maxLen ?? 100_000);
  let closing: Promise<void> | undefined;
  return {
    events,
    published(readings) {
      if (readings.length === 0 || closing !== undefined) return;
      const pipeline = redis.pipeline();
      for (const reading of readings) {
        const entry: LiveReading = { device: reading.deviceId, metric: reading.metric, time: reading.time.toISOString(), value: reading.value, quality: reading.quality };
        pipeline.xadd(key, 'MAXLEN', '~', maxLen, '*', 'r', JSON.stringify(entry));
      }
      pipeline.exec().catch((error: unknown) => events.emit('error', error as Error));
    },
    close: () => (closing ??= redis.quit().then(() => undefined, () => redis.disconnect())),
  };
}
