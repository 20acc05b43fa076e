import type { EnvelopeSource, PayloadEncoding } from '../contracts/envelope.js';
import type { QuarantineReason } from '../contracts/error-codes.js';
import type { Queryable } from './database.js';

/** Raw payloads are kept for diagnosis, but bounded so a flood of junk cannot fill the disk. */
export const MAX_QUARANTINED_PAYLOAD_CHARS = 4096;

export interface QuarantineEntry {
  envelopeId: string;
  /** Which part of the message: -1 for the whole message, -2, -3, … for notices (services/ingest/decode-result.ts), else the index of the refused reading. */
  item: number;
  source: EnvelopeSource;
  deviceId: string | undefined;
  topic: string | undefined;
  receivedAt: Date;
  reason: QuarantineReason;
  message: string;
  payload: string;
  payloadEncoding: PayloadEncoding;
}

/** At most `MAX_QUARANTINED_PAYLOAD_CHARS`, never ending on half of a surrogate pair (it would be stored as U+FFFD). */
function truncatePayload(payload: string): string {
  if (payload.length <= MAX_QUARANTINED_PAYLOAD_CHARS) return payload;
  const last = payload.charCodeAt(MAX_QUARANTINED_PAYLOAD_CHARS - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_QUARANTINED_PAYLOAD_CHARS - 1 : MAX_QUARANTINED_PAYLOAD_CHARS;
  return payload.slice(0, end);
}

/**
 * PostgreSQL text cannot hold U+0000, yet it is valid UTF-8 (so gateways pass such a
 * payload as text) and JSON.parse quotes it in its error. One such message would fail
 * the insert and with it the whole job, good readings included: the payload is kept
 * losslessly as base64 instead, other text shows the character escaped.
 */
function storablePayload(entry: QuarantineEntry): { payload: string; encoding: PayloadEncoding } {
  if (entry.payloadEncoding === 'utf8' && entry.payload.includes('\u0000')) {
    return { payload: truncatePayload(Buffer.from(entry.payload, 'utf8').toString('base64')), encoding: 'base64' };
  }
  return { payload: truncatePayload(entry.payload), encoding: entry.payloadEncoding };
}

function storableText(text: string): string {
  return text.replaceAll('\u0000', '\\u0000');
}

/** Inserts once per (envelope, item): a retried job does not quarantine twice. */
export async function insertQuarantine(db: Queryable, entries: readonly QuarantineEntry[]): Promise<number> {
  return (await insertQuarantineRows(db, entries)).length;
}

/** Like insertQuarantine, counting the entries actually written by reason (for metrics). */
export async function insertQuarantineByReason(db: Queryable, entries: readonly QuarantineEntry[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const reason of await insertQuarantineRows(db, entries)) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return counts;
}

/** The reasons of the rows inserted (conflicts skipped). */
async function insertQuarantineRows(db: Queryable, entries: readonly QuarantineEntry[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const columns = {
    envelopeIds: [] as string[], items: [] as number[], sources: [] as string[], devices: [] as (string | null)[],
    topics: [] as (string | null)[], receivedAts: [] as string[], reasons: [] as string[], messages: [] as string[],
    payloads: [] as string[], encodings: [] as string[],
  };
  for (const entry of entries) {
    columns.envelopeIds.push(entry.envelopeId);
    columns.items.push(entry.item);
    columns.sources.push(entry.source);
    columns.devices.push(entry.deviceId === undefined ? null : storableText(entry.deviceId));
    columns.topics.push(entry.topic === undefined ? null : storableText(entry.topic));
    columns.receivedAts.push(entry.receivedAt.toISOString());
    columns.reasons.push(entry.reason);
    columns.messages.push(storableText(entry.message));
    const { payload, encoding } = storablePayload(entry);
    columns.payloads.push(payload);
    columns.encodings.push(encoding);
  }
  const result = await db.query<{ reason: string }>(
    `INSERT INTO quarantine (envelope_id, item, source, device_id, topic, received_at, reason, message, payload, payload_encoding)
     SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                          $7::text[], $8::text[], $9::text[], $10::text[])
     ON CONFLICT (envelope_id, item) DO NOTHING
     RETURNING reason`,
    Object.values(columns),
  );
  return result.rows.map((row) => row.reason);
}

export interface QuarantinedMessage {
  id: number;
  deviceId: string | undefined;
  source: string;
  topic: string | undefined;
  receivedAt: Date;
  quarantinedAt: Date;
  reason: string;
  message: string;
  payload: string;
  payloadEncoding: string;
}

export interface QuarantinePageQuery {
  deviceId: string | undefined;
  reason: string | undefined;
  /** Entries older than this id (newest first, keyset pagination). */
  beforeId: number | undefined;
  limit: number;
}

export async function listQuarantine(db: Queryable, query: QuarantinePageQuery): Promise<QuarantinedMessage[]> {
  const result = await db.query<{
    id: string | number; device_id: string | null; source: string; topic: string | null; received_at: Date;
    quarantined_at: Date; reason: string; message: string; payload: string; payload_encoding: string;
  }>(
    `SELECT id, device_id, source, topic, received_at, quarantined_at, reason, message, payload, payload_encoding
     FROM quarantine
     WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR reason = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [query.deviceId ?? null, query.reason ?? null, query.beforeId ?? null, query.limit],
  );
  return result.rows.map((row) => ({
    id: Number(row.id),
    deviceId: row.device_id ?? undefined,
    source: row.source,
    topic: row.topic ?? undefined,
    receivedAt: new Date(row.received_at),
    quarantinedAt: new Date(row.quarantined_at),
    reason: row.reason,
    message: row.message,
    payload: row.payload,
    payloadEncoding: row.payload_encoding,
  }));
}
