import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { redisConnection } from '../../queue/redis-connection.js';
import type { Alert } from '../../storage/alerts-store.js';
import type { AlertChanges } from './evaluate-batch.js';

/**
 * Issue 7: optional webhook delivery of alert changes, through a BullMQ queue so a slow or
 * failing receiver never holds up ingestion, with retries and an HMAC-SHA256 signature.
 *
 * Delivery is at least once: a receiver must use `event.id` to drop repeats. Changes are
 * queued after the batch transaction commits; a crash between the commit and the enqueue
 * loses that notification (the alert itself is in the database and the API).
 */
export const ALERT_WEBHOOK_QUEUE_NAME = 'alert-webhooks';
export const SIGNATURE_HEADER = 'x-urbansense-signature';

export interface AlertEvent {
  /** `{alertId}:{kind}`: the same change always has the same id. */
  id: string;
  kind: 'opened' | 'cleared';
  alert: Record<string, unknown>;
}

function eventOf(kind: AlertEvent['kind'], alert: Alert): AlertEvent {
  return { id: `${alert.id}:${kind}`, kind, alert: JSON.parse(JSON.stringify(alert)) as Record<string, unknown> };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp is signed too, so a
 * receiver can refuse replays older than a few minutes.
 */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `t=${timestampS},v1=${mac}`;
}

/** What a receiver does: checks the signature (constant time) and its age. */
export function verifyWebhook(secret: string, header: string, body: string, nowS: number, toleranceS = 300): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const timestampS = Number(match[1]);
  if (Math.abs(nowS - timestampS) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, timestampS, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface AlertWebhookOptions {
  redisUrl: string;
  prefix: string;
  /** Receiver URL (http or https). */
  url: string;
  /** HMAC key shared with the receiver. */
  secret: string;
  /** Attempts per event before it is parked in the failed set. @defaultValue 10 */
  attempts?: number;
  /** First retry delay; doubles each attempt. @defaultValue 1000 */
  backoffMs?: number;
  /** Per request. @defaultValue 10000 */
  timeoutMs?: number;
}

export interface AlertWebhookEvents {
  delivered: [{ eventId: string; status: number }];
  failed: [{ eventId: string | undefined; attemptsMade: number; error: Error }];
  error: [Error];
}

export interface AlertWebhooks {
  /** Queues one event per opened or cleared alert. */
  publish(changes: AlertChanges): Promise<void>;
  readonly events: EventEmitter<AlertWebhookEvents>;
  close(): Promise<void>;
}

async function deliver(options: AlertWebhookOptions, event: AlertEvent): Promise<number> {
  const body = JSON.stringify(event);
  const response = await fetch(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(options.secret, Math.floor(Date.now() / 1000), body) },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  await response.body?.cancel();
  if (response.ok) return response.status;
  const message = `webhook receiver answered ${response.status}`;
  // A receiver that refuses the request itself will refuse every retry: 408 and 429 are worth retrying, other 4xx are not.
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new UnrecoverableError(message);
  throw new Error(message);
}

export function createAlertWebhooks(options: AlertWebhookOptions): AlertWebhooks {
  const events = new EventEmitter<AlertWebhookEvents>();
  events.on('error', () => {});
  const queue = new Queue<AlertEvent>(ALERT_WEBHOOK_QUEUE_NAME, {
    connection: redisConnection(options.redisUrl, 3),
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: options.attempts ?? 10,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  });
  queue.on('error', (error) => events.emit('error', error));
  const worker = new Worker<AlertEvent, number>(ALERT_WEBHOOK_QUEUE_NAME, (job: Job<AlertEvent>) => deliver(options, job.data), {
    connection: redisConnection(options.redisUrl),
    prefix: options.prefix,
    concurrency: 4,
  });
  worker.on('completed', (job, status) => events.emit('delivered', { eventId: job.data.id, status }));
  worker.on('failed', (job, error) => events.emit('failed', { eventId: job?.data.id, attemptsMade: job?.attemptsMade ?? 0, error }));
  worker.on('error', (error) => events.emit('error', error));

  let closing: Promise<void> | undefined;
  return {
    events,
    async publish(changes) {
      const list = [...changes.opened.map((alert) => eventOf('opened', alert)), ...changes.cleared.map((alert) => eventOf('cleared', alert))];
      if (list.length === 0) return;
      // The job id is the event id: a change queued twice is delivered once.
      await queue.addBulk(list.map((event) => ({ name: event.kind, data: event, opts: { jobId: event.id.replace(':', '-') } })));
    },
    close: () => (closing ??= (async () => {
      const results = await Promise.allSettled([worker.close(), queue.close()]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    })()),
  };
}
