import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../contracts/reading.js';
import { testRedisUrl } from '../../test/support/services.js';
import { alertJson } from '../alerts/alert-json.js';
import { compareEventIds } from './live-entries.js';
import { createLiveFeed, type LiveFeed } from './live-feed.js';
import { createLivePublisher, liveCountKey, liveStreamKey, type LivePublisher } from './live-publisher.js';

const reading = (value: number): CanonicalReading => ({ time: new Date(Date.UTC(2026, 10, 21, 0, 0, 0, value)), deviceId: 'meter-1', metric: 'voltage', value, quality: 'good' });
const batch = (from: number, count: number) => Array.from({ length: count }, (_, index) => reading(from + index));

describe('the live stream in Redis: batch entries, retention counted in readings, replay', () => {
  let redis: Redis;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(() => {
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await Promise.all(opened.map((closable) => closable.close()));
    redis.disconnect();
  });

  function open(maxLen?: number): { prefix: string; publisher: LivePublisher; feed: LiveFeed } {
    const prefix = `test-${randomUUID()}`;
    const publisher = createLivePublisher({ redisUrl: testRedisUrl(), prefix, ...(maxLen === undefined ? {} : { maxLen }) });
    const feed = createLiveFeed({ redisUrl: testRedisUrl(), prefix, blockMs: 200 });
    opened.push(publisher, feed);
    return { prefix, publisher, feed };
  }

  /** Waits until the stream holds `readings` (published() returns before Redis has the entry). */
  async function settled(prefix: string, readings: number): Promise<void> {
    for (let tries = 0; tries < 200; tries += 1) {
      if (Number(await redis.get(liveCountKey(prefix))) === readings) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the stream never held ${readings} readings (count ${await redis.get(liveCountKey(prefix))})`);
  }

  it('stores a batch as one entry and replays it as one event per reading, with exact times and values', async () => {
    const { prefix, publisher, feed } = open();
    const odd: CanonicalReading = { time: new Date('2026-11-21T08:00:00.123Z'), deviceId: 'gas-7', metric: 'gas_lel', value: 5e-324, quality: 'uncertain' };
    publisher.published([odd, reading(1), reading(2)]);
    await settled(prefix, 3);
    expect(await redis.xlen(liveStreamKey(prefix))).toBe(1);
    const replayed = await feed.replay('0-0', 100);
    expect(replayed.map((entry) => entry.reading)).toEqual([
      { device: 'gas-7', metric: 'gas_lel', time: '2026-11-21T08:00:00.123Z', value: 5e-324, quality: 'uncertain' },
      { device: 'meter-1', metric: 'voltage', time: '2026-11-21T00:00:00.001Z', value: 1, quality: 'good' },
      { device: 'meter-1', metric: 'voltage', time: '2026-11-21T00:00:00.002Z', value: 2, quality: 'good' },
    ]);
    const ids = replayed.map((entry) => entry.id);
    expect([...ids].sort(compareEventIds)).toEqual(ids);
    expect((await feed.replay(ids[0]!, 100)).map((entry) => entry.reading?.value)).toEqual([1, 2]);
    expect(await feed.replay(ids[2]!, 100)).toEqual([]);
  });

  it('skips rows of a batch entry that are not readings, keeping the others at their places', async () => {
    const { prefix, feed } = open();
    const rows = [['meter-1', 'voltage', 'yesterday', 1, 'good'], ['meter-1', 'voltage', 1e20, 2, 'good'], ['meter-1', 'voltage', 0, 3, 'excellent'], ['meter-1', 'voltage', 0, 4, 'good']];
    const id = await redis.xadd(liveStreamKey(prefix), '*', 'b', JSON.stringify(rows), 'n', '4');
    expect(await feed.replay('0-0', 10)).toEqual([{ id: `${id}.3`, reading: { device: 'meter-1', metric: 'voltage', time: '1970-01-01T00:00:00.000Z', value: 4, quality: 'good' } }]);
  });

  it('keeps at least maxLen readings, dropping whole entries from the oldest', async () => {
    const { prefix, publisher, feed } = open(250);
    for (let start = 0; start < 1000; start += 100) publisher.published(batch(start, 100));
    await settled(prefix, 300);
    // 300 readings in three entries: dropping one more would leave 200, fewer than 250.
    expect(await redis.xlen(liveStreamKey(prefix))).toBe(3);
    const kept = await feed.replay('0-0', 10_000);
    expect(kept.map((entry) => entry.reading?.value)).toEqual(Array.from({ length: 300 }, (_, index) => 700 + index));
  });

  it('counts an alert change as one, and replay stops at its limit inside a batch', async () => {
    const { prefix, publisher, feed } = open(1000);
    publisher.published(batch(0, 5));
    const alert = alertJson({ id: 'a-1', ruleId: 'high-voltage', deviceId: 'meter-1', metric: 'voltage', severity: 'warning', domain: 'grid', district: undefined, state: 'open', openedAt: new Date('2026-11-21T00:00:00Z'), openValue: 260,
      acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, clearedAt: undefined, clearedBy: undefined, clearValue: undefined });
    publisher.alertsChanged([{ change: 'opened', alert }]);
    publisher.published(batch(5, 5));
    await settled(prefix, 11);
    const all = await feed.replay('0-0', 100);
    expect(all.map((entry) => entry.reading?.value ?? 'alert')).toEqual([0, 1, 2, 3, 4, 'alert', 5, 6, 7, 8, 9]);
    expect(all[5]?.alert).toEqual({ change: 'opened', alert });
    expect((await feed.replay(all[2]!.id, 4)).map((entry) => entry.reading?.value ?? 'alert')).toEqual([3, 4, 'alert', 5]);
  });

  it('rebuilds a lost count from the entries (one reading each before batch entries), so retention still holds', async () => {
    const { prefix, publisher, feed } = open(50);
    for (let value = 0; value < 60; value += 1) {
      await redis.xadd(liveStreamKey(prefix), '*', 'r', JSON.stringify({ device: 'meter-1', metric: 'voltage', time: '2026-11-21T00:00:00.000Z', value, quality: 'good' }));
    }
    publisher.published(batch(100, 10));
    // 60 old entries + 10 new readings; keeping at least 50 drops the 20 oldest.
    await settled(prefix, 50);
    const kept = await feed.replay('0-0', 100);
    expect(kept.map((entry) => entry.reading?.value)).toEqual([...Array.from({ length: 40 }, (_, index) => 20 + index), ...Array.from({ length: 10 }, (_, index) => 100 + index)]);
  });
});
