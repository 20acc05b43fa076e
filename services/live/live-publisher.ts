import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { CanonicalReading } from '../../contracts/reading.js';
import type { AlertEvent } from '../alerts/alert-json.js';

/**
 * The Redis stream of committed readings and alert changes, under the stack's queue
 * prefix. An entry has one field: `r` (a reading) or `a` (an alert change).
 */
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
  /** Issue 7: appends alert changes once they are committed, so dashboards see an alarm within the second. */
  alertsChanged(events: readonly AlertEvent[]): void;
  close(): Promise<void>;
}

/**
 * Appends ARGV[3..] as entries of one field ARGV[2], each its own entry (its id is an SSE
 * event id), trimming to about ARGV[1]. One command per batch instead of one XADD per
 * reading: at tens of thousands of readings a second, building and parsing a command
 * per reading cost the worker more than decoding them (issue 9, profiled).
 */
const APPEND_ENTRIES = `
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[i])
end
return #ARGV - 2`;
/** Entries per script call, so one call keeps Redis busy for a few milliseconds at most. */
const APPEND_CHUNK = 1000;

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
      const entries = readings.map((reading) => {
        const entry: LiveReading = { device: reading.deviceId, metric: reading.metric, time: reading.time.toISOString(), value: reading.value, quality: reading.quality };
        return JSON.stringify(entry);
      });
      for (let start = 0; start < entries.length; start += APPEND_CHUNK) {
        redis.eval(APPEND_ENTRIES, 1, key, maxLen, 'r', ...entries.slice(start, start + APPEND_CHUNK))
          .catch((error: unknown) => events.emit('error', error as Error));
      }
    },
    alertsChanged(changes) {
      if (changes.length === 0 || closing !== undefined) return;
      const pipeline = redis.pipeline();
      for (const change of changes) pipeline.xadd(key, 'MAXLEN', '~', maxLen, '*', 'a', JSON.stringify(change));
      pipeline.exec().catch((error: unknown) => events.emit('error', error as Error));
    },
    close: () => (closing ??= redis.quit().then(() => undefined, () => redis.disconnect())),
  };
}
