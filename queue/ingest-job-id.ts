import { randomUUID } from 'node:crypto';

/**
 * Ingest job ids carry the number of envelopes the job holds (`m500-<uuid>`), so the
 * backlog in messages can be read from the queue's id lists alone, without loading any
 * job's data (queue/queue-backlog.ts). BullMQ refuses custom ids that are integers or
 * contain ":"; this form is neither.
 */
export function ingestJobId(envelopes: number): string {
  return `m${envelopes}-${randomUUID()}`;
}

/** Envelopes in the job with this id; `undefined` for ids of another form (jobs queued by older versions). */
export function envelopesOfJobId(jobId: string): number | undefined {
  const match = /^m(\d+)-/.exec(jobId);
  return match === null ? undefined : Number(match[1]);
}
