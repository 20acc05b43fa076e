import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { AlertEvent } from '../alerts/alert-json.js';
import { liveStreamKey, type LiveReading } from './live-publisher.js';

/** A reading or an alert change with its stream entry id (the SSE event id). */
export type LiveEntry = { id: string; reading: LiveReading; alert?: never } | { id: string; alert: AlertEvent; reading?: never };

export interface LiveFeedOptions {
  redisUrl: string;
  prefix: string;
  /** Longest XREAD block; also how long close() may wait. @defaultValue 2000 */
  blockMs?: number;
}

export interface LiveFeed {
  /**
   * Calls `listener` with each new entry until `unsubscribe`. Once `ready` resolves, every
   * entry added from then on reaches the listener; entries before are for `replay`.
   */
  subscribe(listener: (entry: LiveEntry) => void): { ready: Promise<void>; unsubscribe(): void };
  /** Entries after `afterId`, oldest first, at most `limit`. */
  replay(afterId: string, limit: number): Promise<LiveEntry[]>;
  close(): Promise<void>;
}

/** Stream ids `ms-seq` in order. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

export const STREAM_ID_PATTERN = /^\d{1,15}-\d{1,10}$/;

function toEntries(raw: [id: string, fields: string[]][]): LiveEntry[] {
  return raw.flatMap(([id, fields]): LiveEntry[] => {
    const [field, value] = fields;
    try {
      if (field === 'r') return [{ id, reading: JSON.parse(value ?? '') as LiveReading }];
      if (field === 'a') return [{ id, alert: JSON.parse(value ?? '') as AlertEvent }];
    } catch {
      // A foreign or damaged entry is skipped; the stream is not the record.
    }
    return [];
  });
}

/**
 * One reader per API process: a loop of blocking XREADs on its own connection, fanned
 * out to every connected client, so a thousand dashboards cost one Redis reader.
 * The loop runs only while someone is subscribed.
 */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const key = liveStreamKey(options.prefix);
  const blockMs = options.blockMs ?? 2000;
  const reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  const commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  reader.on('error', () => {});
  commands.on('error', () => {});
  const fanout = new EventEmitter<{ entry: [entry: LiveEntry] }>();
  fanout.setMaxListeners(0);
  let loop: Promise<void> | undefined;
  let started: Promise<void> = Promise.resolve();
  let closed = false;

  // From the newest entry when the loop starts, not '$' (the moment XREAD reaches Redis), so nothing added after `ready` is missed.
  async function run(firstId: Promise<string>): Promise<void> {
    let lastId = await firstId;
    while (!closed && fanout.listenerCount('entry') > 0) {
      try {
        const answer = (await reader.xread('BLOCK', blockMs, 'STREAMS', key, lastId)) as [string, [string, string[]][]][] | null;
        for (const [, raw] of answer ?? []) {
          for (const entry of toEntries(raw)) {
            lastId = entry.id;
            fanout.emit('entry', entry);
          }
          lastId = raw.at(-1)?.[0] ?? lastId;
        }
      } catch {
        if (closed) return;
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
  }

  let closing: Promise<void> | undefined;
  return {
    subscribe(listener) {
      fanout.on('entry', listener);
      if (loop === undefined) {
        const firstId = commands.xrevrange(key, '+', '-', 'COUNT', 1).then((newest) => newest[0]?.[0] ?? '0-0');
        started = firstId.then(() => undefined);
        loop = run(firstId).catch(() => {}).finally(() => {
          loop = undefined;
        });
      }
      return { ready: started, unsubscribe: () => fanout.off('entry', listener) };
    },
    async replay(afterId, limit) {
      const raw = (await commands.xrange(key, `(${afterId}`, '+', 'COUNT', limit)) as [string, string[]][];
      return toEntries(raw);
    },
    close: () => (closing ??= (async () => {
      closed = true;
      fanout.removeAllListeners();
      reader.disconnect();
      await loop?.catch(() => {});
      await commands.quit().catch(() => commands.disconnect());
    })()),
  };
}
