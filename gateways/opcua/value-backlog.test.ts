import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createValueBacklog } from './value-backlog.js';

function envelope(n: number): RawEnvelope {
  return { id: `v${n}`, source: 'opcua', deviceId: 'pump-1', nodeId: 'ns=1;s=Flow', receivedAtMs: n, payloadEncoding: 'utf8', payload: `{"n":${n}}` };
}

/** The real batcher in front of a queue that can be switched off, as Redis going away looks to it. */
function flakyQueue() {
  const stored: string[] = [];
  const state = { up: true, sends: 0 };
  const batcher = createEnvelopeBatcher({
    maxEnvelopes: 100, maxWaitMs: 5, maxPayloadChars: 1e6,
    send: async (envelopes) => {
      state.sends += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!state.up) throw new Error('queueing the batch in Redis took longer than 5000 ms');
      stored.push(...envelopes.map((entry) => entry.id));
    },
  });
  return { batcher, stored, state };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the value backlog between a server and the queue', () => {
  it('holds values while the queue is away and delivers them, in order, when it is back', async () => {
    const queue = flakyQueue();
    const events: string[] = [];
    const backlog = createValueBacklog({ maxValues: 100, retryInitialDelayMs: 20, retryMaxDelayMs: 40 }, {
      batcher: queue.batcher,
      dropped: (count, why) => events.push(`dropped ${count} ${why}`),
      queueFailed: (error) => events.push(`failed: ${error.message}`),
      queueRecovered: () => events.push('recovered'),
    });
    backlog.push(envelope(1));
    await until(() => queue.stored.length === 1, 'the first value');
    queue.state.up = false;
    for (let n = 2; n <= 6; n += 1) backlog.push(envelope(n));
    await until(() => queue.state.sends >= 4, 'a few refused sends');
    expect(backlog.size).toBe(5);
    expect(queue.stored).toEqual(['v1']);
    queue.state.up = true;
    await until(() => queue.stored.length === 6, 'the held values');
    expect(queue.stored).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    expect(events).toEqual(['failed: queueing the batch in Redis took longer than 5000 ms', 'recovered']);
    expect(backlog.stats).toEqual({ delivered: 6, dropped: 0 });
    await backlog.close();
  });

  it('drops the oldest waiting values when full, counts them, and never blocks the caller', async () => {
    const queue = flakyQueue();
    queue.state.up = false;
    const dropped: number[] = [];
    let refused = false;
    const backlog = createValueBacklog({ maxValues: 3, retryInitialDelayMs: 10_000 }, {
      batcher: queue.batcher, dropped: (count) => dropped.push(count), queueFailed: () => (refused = true), queueRecovered: () => {},
    });
    for (let n = 1; n <= 3; n += 1) backlog.push(envelope(n));
    // Once refused, the three wait for the retry (in 10 s); while in flight they could not be dropped.
    await until(() => refused, 'the first refusal');
    await new Promise((resolve) => setTimeout(resolve, 0));
    const started = performance.now();
    for (let n = 4; n <= 1000; n += 1) backlog.push(envelope(n));
    expect(performance.now() - started).toBeLessThan(200);
    expect(backlog.size).toBe(3);
    expect(backlog.stats.dropped).toBe(997);
    queue.state.up = true;
    await backlog.close();
    // close() sends what waits one last time: the newest three.
    expect(queue.stored).toEqual(['v998', 'v999', 'v1000']);
    expect(dropped.reduce((sum, count) => sum + count, 0)).toBe(997);
  });

  it('counts what could not be delivered at shutdown', async () => {
    const queue = flakyQueue();
    queue.state.up = false;
    const why: string[] = [];
    const backlog = createValueBacklog({ maxValues: 10 }, { batcher: queue.batcher, dropped: (count, reason) => why.push(`${count} ${reason}`), queueFailed: () => {}, queueRecovered: () => {} });
    backlog.push(envelope(1));
    backlog.push(envelope(2));
    await backlog.close();
    expect(backlog.stats).toEqual({ delivered: 0, dropped: 2 });
    expect(why.join(',')).toMatch(/shutdown/);
    backlog.push(envelope(3));
    expect(backlog.stats.dropped).toBe(3);
  });
});
