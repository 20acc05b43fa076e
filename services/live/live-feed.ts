import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { compareEventIds, rangeStartAfter, toLiveEntries, type LiveEntry } from './live-entries.js';
import { liveStreamKey } from './live-publisher.js';

export type { LiveEntry } from './live-entries.js';

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
  /** Readings and alert changes after the event id `afterId`, oldest first, at most `limit`. */
  replay(afterId: string, limit: number): Promise<LiveEntry[]>;
  close(): Promise<void>;
}

/** Stream entries per XRANGE while replaying; an entry may hold a thousand readings. */
const REPLAY_PAGE_ENTRIES = 50;

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
          for (const entry of toLiveEntries(raw)) fanout.emit('entry', entry);
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
      const missed: LiveEntry[] = [];
      let start = rangeStartAfter(afterId);
      while (missed.length < limit) {
        const raw = (await commands.xrange(key, start, '+', 'COUNT', REPLAY_PAGE_ENTRIES)) as [string, string[]][];
        for (const entry of toLiveEntries(raw)) {
          if (missed.length < limit && compareEventIds(entry.id, afterId) > 0) missed.push(entry);
        }
        const last = raw.at(-1);
        if (last === undefined || raw.length < REPLAY_PAGE_ENTRIES) break;
        start = `(${last[0]}`;
      }
      return missed;
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
