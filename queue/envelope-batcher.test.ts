import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../contracts/envelope.js';
import { BatcherClosedError, createEnvelopeBatcher } from './envelope-batcher.js';

function envelope(id: string, payload = '{}'): RawEnvelope {
  return { id, source: 'mqtt', deviceId: 'd', topic: 'sensors/d/telemetry', receivedAtMs: 0, payloadEncoding: 'utf8', payload };
}

function recordingSend() {
  const batches: string[][] = [];
  return { batches, send: async (envelopes: RawEnvelope[]) => void batches.push(envelopes.map((e) => e.id)) };
}

describe('envelope batcher', () => {
  it('sends a full batch at once and the rest after the wait', async () => {
    const { batches, send } = recordingSend();
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 3, maxPayloadChars: 1 << 20, maxWaitMs: 20, send });
    const accepted = ['a', 'b', 'c', 'd'].map((id) => batcher.add(envelope(id)));
    await Promise.all(accepted.slice(0, 3));
    expect(batches).toEqual([['a', 'b', 'c']]);
    await accepted[3];
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
    await batcher.close();
  });

  it('closes a batch when its payloads reach the size bound', async () => {
    const { batches, send } = recordingSend();
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 100, maxPayloadChars: 10, maxWaitMs: 1000, send });
    await Promise.all([batcher.add(envelope('a', '123456')), batcher.add(envelope('b', '123456'))]);
    expect(batches).toEqual([['a', 'b']]);
    await batcher.close();
  });

  it('rejects every envelope of a batch that could not be stored, and counts none as pending after', async () => {
    const batcher = createEnvelopeBatcher({
      maxEnvelopes: 2, maxPayloadChars: 1 << 20, maxWaitMs: 5,
      send: async () => { throw new Error('redis is down'); },
    });
    const results = await Promise.allSettled([batcher.add(envelope('a')), batcher.add(envelope('b'))]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['redis is down', 'redis is down']);
    expect(batcher.pending).toBe(0);
    await batcher.close();
  });

  it('on close sends what it holds, waits for sends in flight, then refuses new envelopes', async () => {
    let release: () => void = () => {};
    const sent: string[] = [];
    const batcher = createEnvelopeBatcher({
      maxEnvelopes: 100, maxPayloadChars: 1 << 20, maxWaitMs: 60_000,
      send: (envelopes) => new Promise<void>((resolve) => {
        release = () => { sent.push(...envelopes.map((e) => e.id)); resolve(); };
      }),
    });
    const accepted = batcher.add(envelope('a'));
    expect(batcher.pending).toBe(1);
    const closing = batcher.close();
    await expect(batcher.add(envelope('late'))).rejects.toBeInstanceOf(BatcherClosedError);
    release();
    await closing;
    await accepted;
    expect(sent).toEqual(['a']);
    expect(batcher.pending).toBe(0);
  });
});
