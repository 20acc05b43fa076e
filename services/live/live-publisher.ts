import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { CanonicalReading, Quality } from '../../contracts/reading.js';
import type { AlertEvent } from '../alerts/alert-json.js';

/**
 * The Redis stream of committed readings and alert changes, under the stack's queue
 * prefix. Entry fields (services/live/live-entries.ts reads them):
 * - `b`: a batch of readings committed together, a JSON array of {@link LiveReadingRow}, with `n` its length;
 * - `a`: one alert change (`n` 1);
 * - `r`: one reading as an object (written before batches were; still read, so a stream
 *   survives an upgrade).
 */
export function liveStreamKey(prefix: string): string {
  return `${prefix}:live:readings`;
}

/** How many readings and alert changes the stream holds, kept by the append script. */
export function liveCountKey(prefix: string): string {
  return `${prefix}:live:count`;
}

/** One reading as it reaches a live client. */
export interface LiveReading {
  device: string;
  metric: string;
  time: string;
  value: number;
  quality: string;
}

/** One reading inside a batch entry: epoch milliseconds, not ISO text, so the worker formats nothing. */
export type LiveReadingRow = [device: string, metric: string, timeMs: number, value: number, quality: Quality];

export interface LivePublisherOptions {
  redisUrl: string;
  prefix: string;
  /** Readings and alert changes the stream keeps for resumption, at least. @defaultValue 100000 */
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
 * KEYS: the stream, its count. ARGV[1]: how many to keep; then triples of field, count,
 * value, one entry each. Whole entries are dropped from the oldest while the rest still
 * holds at least ARGV[1] readings and alert changes: XADD's MAXLEN counts entries, and an
 * entry here may hold a thousand readings. A missing count (a stream from before it, or
 * a deleted key) is rebuilt from the entries once.
 */
const APPEND_AND_TRIM = `
local function count(fields)
  for f = 1, #fields, 2 do
    if fields[f] == 'n' then return tonumber(fields[f + 1]) or 1 end
  end
  return 1
end
local total = tonumber(redis.call('GET', KEYS[2]))
if total == nil then
  total = 0
  for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do total = total + count(entry[2]) end
end
for i = 2, #ARGV, 3 do
  redis.call('XADD', KEYS[1], '*', ARGV[i], ARGV[i + 2], 'n', ARGV[i + 1])
  total = total + tonumber(ARGV[i + 1])
end
local keep = tonumber(ARGV[1])
while total > keep do
  -- One entry at a time: an entry may be tens of kilobytes, and reading a hundred to drop one cost more than the XADDs saved.
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if oldest == nil then
    total = 0
    break
  end
  local n = count(oldest[2])
  if total - n < keep then break end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = total - n
end
redis.call('SET', KEYS[2], total)
return total`;

/** Readings per entry, so one entry stays a few tens of kilobytes and one call keeps Redis busy briefly. */
const ROWS_PER_ENTRY = 1000;

type AppendCommand = (streamKey: string, countKey: string, keep: string, ...triples: string[]) => Promise<number>;

/**
 * Publishes readings after their transaction committed, so a live client never sees a
 * reading the API cannot return. A Redis stream rather than pub/sub: a client that
 * reconnects with Last-Event-ID gets what it missed (as far back as `maxLen`). A batch is
 * one entry, appended by one script call: an XADD per reading cost Redis about 5 µs of
 * CPU per reading, a tenth of the whole pipeline's (issue 9, Redis INFO commandstats).
 * A retried job may publish a reading twice; clients key readings by (device, metric,
 * time), as storage does.
 */
export function createLivePublisher(options: LivePublisherOptions): LivePublisher {
  const events = new EventEmitter<{ error: [error: Error] }>();
  events.on('error', () => {});
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', (error: Error) => events.emit('error', error));
  // EVALSHA, falling back to EVAL once after a Redis restart forgot the script.
  redis.defineCommand('appendLiveEntries', { numberOfKeys: 2, lua: APPEND_AND_TRIM });
  const append = (redis as unknown as { appendLiveEntries: AppendCommand }).appendLiveEntries.bind(redis);
  const streamKey = liveStreamKey(options.prefix);
  const countKey = liveCountKey(options.prefix);
  const keep = String(options.maxLen ?? 100_000);
  const send = (triples: string[]) => {
    append(streamKey, countKey, keep, ...triples).catch((error: unknown) => events.emit('error', error as Error));
  };
  let closing: Promise<void> | undefined;
  return {
    events,
    published(readings) {
      if (readings.length === 0 || closing !== undefined) return;
      const triples: string[] = [];
      for (let start = 0; start < readings.length; start += ROWS_PER_ENTRY) {
        const rows = readings.slice(start, start + ROWS_PER_ENTRY).map((reading): LiveReadingRow => [reading.deviceId, reading.metric, reading.time.getTime(), reading.value, reading.quality]);
        triples.push('b', String(rows.length), JSON.stringify(rows));
      }
      send(triples);
    },
    alertsChanged(changes) {
      if (changes.length === 0 || closing !== undefined) return;
      send(changes.flatMap((change) => ['a', '1', JSON.stringify(change)]));
    },
    close: () => (closing ??= redis.quit().then(() => undefined, () => redis.disconnect())),
  };
}
