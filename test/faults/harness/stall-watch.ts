import { setTimeout as delay } from 'node:timers/promises';
import { QueueEvents } from 'bullmq';
import { INGEST_QUEUE_NAME } from '../../../contracts/queue.js';
import { redisConnection } from '../../../queue/redis-connection.js';

/** Counts BullMQ 'stalled' events per job: how often a job lost its worker mid-processing. */
export interface StallWatch {
  /** The most times one job stalled so far. */
  maxStallsOfOneJob(): number;
  /** Stall events so far, all jobs together. */
  total(): number;
  /** Resolves once `total()` reaches `count`. */
  waitForTotal(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function watchStalls(redisUrl: string, prefix: string): Promise<StallWatch> {
  const events = new QueueEvents(INGEST_QUEUE_NAME, { connection: redisConnection(redisUrl), prefix });
  const stalls = new Map<string, number>();
  events.on('stalled', ({ jobId }) => stalls.set(jobId, (stalls.get(jobId) ?? 0) + 1));
  events.on('error', () => {});
  await events.waitUntilReady();
  const total = () => [...stalls.values()].reduce((sum, count) => sum + count, 0);
  return {
    maxStallsOfOneJob: () => Math.max(0, ...stalls.values()),
    total,
    async waitForTotal(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (total() < count) {
        if (Date.now() > deadline) throw new Error(`${total()} of ${count} stalled jobs seen within ${timeoutMs} ms`);
        await delay(50);
      }
    },
    close: () => events.close(),
  };
}
