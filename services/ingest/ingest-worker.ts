import { EventEmitter } from 'node:events';
import { Worker, type Job } from 'bullmq';
import type { QuarantineReason } from '../../contracts/error-codes.js';
import { INGEST_QUEUE_NAME, type IngestJobData, type IngestJobResult } from '../../contracts/queue.js';
import { INGEST_BACKOFF_TYPE } from '../../queue/ingest-queue.js';
import { redisConnection } from '../../queue/redis-connection.js';
import { storeEnvelopes, type StoreEnvelopesDeps } from './store-envelopes.js';

export interface IngestWorkerOptions {
  redisUrl: string;
  prefix: string;
  /** Jobs processed at once by this process. @defaultValue 4 */
  concurrency: number;
  /** Longest wait between retries of a failing job. @defaultValue 60000 */
  maxBackoffMs?: number;
  /**
   * A job whose worker stopped renewing its lock (killed, crashed, cut off from Redis)
   * this long is handed to another worker: BullMQ's lockDuration and stalledInterval.
   * @defaultValue 30000
   */
  stalledAfterMs?: number;
}

/**
 * How often a job may stall before BullMQ fails it ("job stalled more than allowable
 * limit"). BullMQ's default of 1 would park the acknowledged readings of a job whose
 * worker was killed twice while writing it (a rolling deploy, an OOM kill, a node loss)
 * in the failed set, unprocessed. A stall is the worker's fault, not the job's: the
 * write is one idempotent transaction, so running it again is always safe. Only a job
 * that kills every worker it reaches ends up failed (kept, retryable), after this many.
 */
export const MAX_STALLED_COUNT = 1000;

export interface IngestWorkerEvents {
  /**
   * A job's readings and quarantine entries are committed. `processMs`: the attempt that
   * committed (decode and write); `waitMs`: enqueue to start of processing (queue lag).
   */
  stored: [result: IngestJobResult & { jobId: string; processMs: number; waitMs: number }];
  /** A job attempt failed; BullMQ retries it with backoff unless attempts are used up. */
  failed: [info: { jobId: string | undefined; attemptsMade: number; error: Error }];
  error: [error: Error];
}

/** Running totals of this worker process since it started, for metrics (issue 5 exports them). */
export interface IngestTotals {
  stored: number;
  duplicates: number;
  quarantined: number;
  quarantinedByReason: Partial<Record<QuarantineReason, number>>;
}

export interface IngestWorker {
  readonly events: EventEmitter<IngestWorkerEvents>;
  readonly totals: Readonly<IngestTotals>;
  readonly worker: Worker<IngestJobData, IngestJobResult>;
  close(): Promise<void>;
}

/** Capped exponential backoff: 0.5 s, 1 s, 2 s … up to `maxBackoffMs`. */
export function ingestBackoffMs(attemptsMade: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, 500 * 2 ** Math.max(0, attemptsMade - 1));
}

export function createIngestWorker(options: IngestWorkerOptions, deps: StoreEnvelopesDeps): IngestWorker {
  const events = new EventEmitter<IngestWorkerEvents>();
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const worker = new Worker<IngestJobData, IngestJobResult>(
    INGEST_QUEUE_NAME,
    async (job: Job<IngestJobData, IngestJobResult>) => storeEnvelopes(job.data.envelopes, deps, job.attemptsMade),
    {
      connection: redisConnection(options.redisUrl),
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.stalledAfterMs ?? 30_000,
      stalledInterval: options.stalledAfterMs ?? 30_000,
      maxStalledCount: MAX_STALLED_COUNT,
      settings: {
        backoffStrategy: (attemptsMade, type) =>
          type === INGEST_BACKOFF_TYPE ? ingestBackoffMs(attemptsMade, maxBackoffMs) : 1000,
      },
    },
  );
  const totals: IngestTotals = { stored: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {} };
  worker.on('completed', (job, result) => {
    totals.stored += result.stored;
    totals.duplicates += result.duplicates;
    totals.quarantined += result.quarantined;
    for (const [reason, count] of Object.entries(result.quarantinedByReason) as [QuarantineReason, number][]) {
      totals.quarantinedByReason[reason] = (totals.quarantinedByReason[reason] ?? 0) + count;
    }
    const finishedOn = job.finishedOn ?? Date.now();
    const processedOn = job.processedOn ?? finishedOn;
    events.emit('stored', { ...result, jobId: job.id ?? '', processMs: finishedOn - processedOn, waitMs: Math.max(0, processedOn - job.timestamp) });
  });
  worker.on('failed', (job, error) => events.emit('failed', { jobId: job?.id, attemptsMade: job?.attemptsMade ?? 0, error }));
  worker.on('error', (error) => events.emit('error', error));
  // Nobody may be listening for 'error' (tests); an unheard 'error' would throw.
  events.on('error', () => {});

  let closing: Promise<void> | undefined;
  return {
    events,
    totals,
    worker,
    close() {
      // Waits for active jobs to finish, so a graceful stop commits in-flight batches.
      closing ??= worker.close();
      return closing;
    },
  };
}
