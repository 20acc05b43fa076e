import { EventEmitter } from 'node:events';
import { Worker, type Job } from 'bullmq';
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
}

export interface IngestWorkerEvents {
  /** A job's readings and quarantine entries are committed. */
  stored: [result: IngestJobResult & { jobId: string }];
  /** A job attempt failed; BullMQ retries it with backoff unless attempts are used up. */
  failed: [info: { jobId: string | undefined; attemptsMade: number; error: Error }];
  error: [error: Error];
}

export interface IngestWorker {
  readonly events: EventEmitter<IngestWorkerEvents>;
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
    async (job: Job<IngestJobData, IngestJobResult>) => storeEnvelopes(job.data.envelopes, deps),
    {
      connection: redisConnection(options.redisUrl),
      prefix: options.prefix,
      concurrency: options.concurrency,
      settings: {
        backoffStrategy: (attemptsMade, type) =>
          type === INGEST_BACKOFF_TYPE ? ingestBackoffMs(attemptsMade, maxBackoffMs) : 1000,
      },
    },
  );
  worker.on('completed', (job, result) => events.emit('stored', { ...result, jobId: job.id ?? '' }));
  worker.on('failed', (job, error) => events.emit('failed', { jobId: job?.id, attemptsMade: job?.attemptsMade ?? 0, error }));
  worker.on('error', (error) => events.emit('error', error));
  // Nobody may be listening for 'error' (tests); an unheard 'error' would throw.
  events.on('error', () => {});

  let closing: Promise<void> | undefined;
  return {
    events,
    worker,
    close() {
      // Waits for active jobs to finish, so a graceful stop commits in-flight batches.
      closing ??= worker.close();
      return closing;
    },
  };
}
