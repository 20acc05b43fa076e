import type { JobType } from 'bullmq';
import type { IngestQueue } from './ingest-queue.js';
import { envelopesOfJobId } from './ingest-job-id.js';

export interface QueueBacklogOptions {
  /** How often the queue is read. Between reads the estimate only grows (see `messages`). @defaultValue 250 */
  refreshMs?: number;
  /**
   * Counted for a job whose id does not name its size (queued by an older version): the
   * most a job can hold, so the estimate errs high.
   */
  unknownJobMessages: number;
  /**
   * Above this many jobs the ids are not listed: each job holds at least one message, so
   * the backlog is known to be at least this large, which is all the broker needs, and
   * a huge backlog is not copied out of Redis four times a second.
   */
  maxListedJobs: number;
}

export interface QueueBacklog {
  /**
   * Messages in ingest jobs that are waiting, delayed for a retry or being processed:
   * the last read of the queue plus every message sent through `added` since that read
   * began. Workers only take jobs away, so for a single producer this never
   * underestimates; other producers' jobs appear at the next read.
   */
  readonly messages: number;
  /** Whether the last read listed every job (false when it stopped at `maxListedJobs`, or has not happened yet). */
  readonly exact: boolean;
  /** Call once a job of `messages` envelopes is in Redis. */
  added(messages: number): void;
  /** Resolves after a fresh read of the queue (used at start and by tests). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

// Every state in which a job still holds messages that are not stored; parked failed
// jobs are not a backlog that drains (docs/backpressure.md).
const BACKLOG_STATES: JobType[] = ['wait', 'prioritized', 'waiting-children', 'active', 'delayed'];

export function createQueueBacklog(queue: IngestQueue, options: QueueBacklogOptions): QueueBacklog {
  const refreshMs = options.refreshMs ?? 250;
  let snapshot = 0;
  let addedTotal = 0;
  let addedAtSnapshot = 0;
  let exact = false;
  let reading: Promise<void> | undefined;

  async function read(): Promise<void> {
    const addedBefore = addedTotal;
    try {
      const counts = await queue.queue.getJobCounts(...BACKLOG_STATES);
      const jobs = Object.values(counts).reduce((sum, count) => sum + count, 0);
      let messages = jobs;
      if (jobs <= options.maxListedJobs) {
        const ids = await queue.queue.getRanges(BACKLOG_STATES, 0, -1);
        messages = ids.reduce((sum, id) => sum + (envelopesOfJobId(id) ?? options.unknownJobMessages), 0);
      }
      snapshot = messages;
      // Jobs added while this read ran may or may not be in it: counting them again errs high.
      addedAtSnapshot = addedBefore;
      exact = jobs <= options.maxListedJobs;
    } catch {
      // Redis unreachable: the estimate keeps its last value, and nothing can be queued meanwhile anyway.
    }
  }

  const refresh = () => (reading ??= read().finally(() => (reading = undefined)));
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    get messages() {
      return snapshot + addedTotal - addedAtSnapshot;
    },
    get exact() {
      return exact;
    },
    added(messages) {
      addedTotal += messages;
    },
    refresh,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await reading;
      })();
      return closing;
    },
  };
}
