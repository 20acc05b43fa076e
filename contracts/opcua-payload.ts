import type { Quality } from './reading.js';

/**
 * The payload of an OPC UA envelope (`source: 'opcua'`): one DataValue exactly as the
 * server sent it, plus what the gateway's mapping says about it. The gateway decides
 * nothing about the reading; the ingest worker (services/ingest/decode-opcua.ts) turns
 * this into a canonical reading, so a mapping or decoding mistake can be fixed and the
 * envelope decoded again from the quarantine.
 *
 * Example: `{"metric":"flow","unit":"m3/h","value":412.5,"dataType":"Double","status":0,
 * "sourceTime":"2026-11-21T08:00:00.120Z","serverTime":"2026-11-21T08:00:00.130Z","timestampSource":"source"}`
 */

/** Which of the DataValue's timestamps becomes the reading's time (mapping `timestamps`). */
export const TIMESTAMP_SOURCES = ['source', 'server', 'gateway'] as const;
export type TimestampSource = (typeof TIMESTAMP_SOURCES)[number];

export interface OpcuaValuePayload {
  /** Catalogue metric key (or alias) the mapping gives the node. */
  metric: string;
  /** Unit the server reports the value in (mapping `unit`); absent means the metric's canonical unit. */
  unit?: string;
  /**
   * The Variant's value: a number, a boolean, a decimal string for Int64/UInt64 (exact
   * beyond 2^53), or null when the Variant is empty (a Bad status often comes with none).
   */
  value: number | boolean | string | null;
  /** Name of the Variant's OPC UA built-in DataType: `Double`, `Boolean`, `Int64`, `Null`, … */
  dataType: string;
  /** The StatusCode as the server sent it, an unsigned 32-bit number (OPC UA Part 4 §7.39). */
  status: number;
  /** SourceTimestamp, ISO 8601 UTC; null when the server sent none. */
  sourceTime: string | null;
  /** ServerTimestamp, ISO 8601 UTC; null when the server sent none. */
  serverTime: string | null;
  /** The mapping's choice; `gateway` is the envelope's `receivedAtMs`. */
  timestampSource: TimestampSource;
}

/**
 * Quality from a StatusCode's severity, its top two bits (OPC UA Part 4 §7.39.2):
 * 00 Good, 01 Uncertain, 10 Bad; 11 is reserved and read as bad.
 */
export function qualityOfStatus(status: number): Quality {
  const severity = status >>> 30;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

/**
 * The StatusCode as stored in `readings.source_quality` (a signed 32-bit integer column):
 * the same 32 bits read as two's complement, so Bad codes (top bit set) are negative.
 * `storedStatus >>> 0` gives the OPC UA code back.
 */
export function storedStatus(status: number): number {
  return status | 0;
}

/** `0x80050000`: how OPC UA documents and logs write status codes. */
export function formatStatus(status: number): string {
  return `0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
