import type { RawEnvelope } from './envelope.js';
import type { QuarantineReason } from './error-codes.js';

/**
 * The queue between the gateways and the ingest workers. Envelopes travel in batches
 * (one job holds many), so Redis round trips and database transactions are per batch.
 */
export const INGEST_QUEUE_NAME = 'ingest';
export const INGEST_JOB_NAME = 'envelopes';

export interface IngestJobData {
  envelopes: RawEnvelope[];
}

export interface IngestJobResult {
  stored: number;
  duplicates: number;
  /** Quarantine entries written (a retried job does not count its earlier ones again). */
  quarantined: number;
  /** The same entries by reason, for metrics. */
  quarantinedByReason: Partial<Record<QuarantineReason, number>>;
}
