import { Queue } from 'bullmq';
import type { RawEnvelope } from '../contracts/envelope.js';
import { INGEST_JOB_NAME, INGEST_QUEUE_NAME, type IngestJobData, type IngestJobResult } from '../contracts/queue.js';
import { ingestJobId } from './ingest-job-id.js';
import { redisConnection } from './redis-connection.js';

export interface IngestQueueOptions {
  redisUrl: string;
  /** Redis key prefix; stacks (and tests) sharing one Redis use different ones. */
  prefix: string;
  /**
   * Attempts per job before it is parked in the failed set (kept, never deleted, and
   * retryable by an operator). Retries wait with capped exponential backoff, so the
   * default rides out about a day of database outage.
   * @defaultValue 1500
   */
  attempts?: number;
  /**
   * How long an add may take before it counts as failed. BullMQ waits for a Redis that
   * is down instead of failing; without a bound, devices would wait for a PUBACK that
   * never comes and shutdown would hang. An add that completes after its timeout only
   * means the device resends a message that is already queued: storage drops the copy.
   * @defaultValue 5000
   */
  addTimeoutMs?: number;
}

export interface IngestQueue {
  /** Resolves once the job is stored in Redis; only then may a gateway acknowledge. */
  add(envelopes: RawEnvelope[]): Promise<void>;
  /** Round trip to Redis, for readiness checks. */
  ping(): Promise<void>;
  /** Jobs waiting, delayed for retry, being processed, and parked as failed. */
  counts(): Promise<Record<'waiting' | 'delayed' | 'active' | 'failed', number>>;
  readonly queue: Queue<IngestJobData, IngestJobResult>;
  close(): Promise<void>;
}

export const INGEST_BACKOFF_TYPE = 'capped-exponential';

export class QueueTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'QueueTimeoutError';
  }
}

async function withTimeout(work: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueTimeoutError(what, ms)), ms);
  });
  // The late outcome of `work` is of no interest once the timeout has answered.
  work.catch(() => {});
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createIngestQueue(options: IngestQueueOptions): IngestQueue {
  const addTimeoutMs = options.addTimeoutMs ?? 5000;
  const queue = new Queue<IngestJobData, IngestJobResult>(INGEST_QUEUE_NAME, {
    // A producer's command must not queue forever while Redis is away: failing lets
    // the gateway withhold the acknowledgement, and the device resends.
    connection: redisConnection(options.redisUrl, 3),
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: options.attempts ?? 1500,
      backoff: { type: INGEST_BACKOFF_TYPE },
      removeOnComplete: true,
      // Failed jobs hold acknowledged readings: never delete them automatically.
      removeOnFail: false,
    },
  });
  // Connection errors surface through add()/ping(); this listener keeps the emitter
  // from throwing them as unhandled 'error' events.
  queue.on('error', () => {});

  let closing: Promise<void> | undefined;
  return {
    queue,
    add(envelopes) {
      // The id names the envelope count: the broker reads its backlog from ids alone (queue/queue-backlog.ts).
      return withTimeout(queue.add(INGEST_JOB_NAME, { envelopes }, { jobId: ingestJobId(envelopes.length) }), addTimeoutMs, 'queueing the batch in Redis');
    },
    async ping() {
      // Any command is a round trip; one field of the queue's metadata hash is the cheapest.
      const client = await queue.getBackend().client;
      await client.hget(queue.toKey('meta'), 'version');
    },
    async counts() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
      return { waiting: counts.waiting ?? 0, delayed: counts.delayed ?? 0, active: counts.active ?? 0, failed: counts.failed ?? 0 };
    },
    close() {
      closing ??= queue.close();
      return closing;
    },
  };
}
