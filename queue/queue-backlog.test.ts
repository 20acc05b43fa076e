import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../contracts/envelope.js';
import { INGEST_JOB_NAME, INGEST_QUEUE_NAME } from '../contracts/queue.js';
import { eventually } from '../test/support/api-client.js';
import { testRedisUrl } from '../test/support/services.js';
import { envelopesOfJobId, ingestJobId } from './ingest-job-id.js';
import { createIngestQueue, type IngestQueue } from './ingest-queue.js';
import { createQueueBacklog, type QueueBacklog } from './queue-backlog.js';
import { redisConnection } from './redis-connection.js';

function envelopes(count: number): RawEnvelope[] {
  return Array.from({ length: count }, () => ({
    id: randomUUID(), source: 'mqtt', deviceId: 'd', topic: 'sensors/d/telemetry', receivedAtMs: 0, payloadEncoding: 'utf8', payload: '{}',
  }));
}

describe('ingest job ids', () => {
  it('name the number of envelopes, and are ids BullMQ accepts (not an integer, no ":")', () => {
    const id = ingestJobId(500);
    expect(id).toMatch(/^m500-[0-9a-f-]{36}$/);
    expect(envelopesOfJobId(id)).toBe(500);
    expect(envelopesOfJobId('17')).toBeUndefined();
  });
});

describe('queue backlog on a real Redis', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const thing of opened.reverse()) await thing.close();
    opened.length = 0;
  });

  function open(maxListedJobs = 100): { prefix: string; queue: IngestQueue; backlog: QueueBacklog } {
    const prefix = `test-${randomUUID()}`;
    const queue = createIngestQueue({ redisUrl: testRedisUrl(), prefix });
    const backlog = createQueueBacklog(queue, { refreshMs: 60_000, unknownJobMessages: 500, maxListedJobs });
    opened.push(queue, backlog);
    return { prefix, queue, backlog };
  }

  it('counts the messages of unprocessed jobs, adds what was queued since the last read, and drains with the workers', async () => {
    const { prefix, queue, backlog } = open();
    await backlog.refresh();
    expect(backlog.messages).toBe(0);

    await queue.add(envelopes(3));
    backlog.added(3);
    await queue.add(envelopes(1));
    backlog.added(1);
    expect(backlog.messages).toBe(4); // before any read: what this producer added
    await backlog.refresh();
    expect(backlog.messages).toBe(4); // read from Redis, not counted twice
    expect(backlog.exact).toBe(true);

    // A job whose id does not name its size (an older version's) counts as the largest a job can be.
    await queue.queue.add(INGEST_JOB_NAME, { envelopes: envelopes(1) });
    await backlog.refresh();
    expect(backlog.messages).toBe(504);

    const worker = new Worker(INGEST_QUEUE_NAME, async () => ({ stored: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {} }), {
      connection: redisConnection(testRedisUrl()), prefix,
    });
    opened.push(worker);
    await eventually(async () => {
      await backlog.refresh();
      return backlog.messages === 0 ? true : undefined;
    }, 10_000, 'the backlog to drain');
  });

  it('stops listing ids above maxListedJobs and reports the job count, a lower bound', async () => {
    const { queue, backlog } = open(1);
    await queue.add(envelopes(5));
    await queue.add(envelopes(5));
    await backlog.refresh();
    expect(backlog.messages).toBe(2);
    expect(backlog.exact).toBe(false);
  });
});
