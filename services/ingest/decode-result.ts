import type { QuarantineReason } from '../../contracts/error-codes.js';
import type { Quality } from '../../contracts/reading.js';

/** `Refusal.item` of a refusal that concerns the whole message. */
export const WHOLE_MESSAGE = -1;
/** `Refusal.item` of the first notice about a message whose readings were stored (a Sparkplug sequence gap); the next is −3, … */
export const NOTICE = -2;

/** One value as the device sent it, before the catalogue has looked at it. */
export interface DecodedSample {
  /** Position within the message, so a refused value can be named and quarantined once. */
  item: number;
  /** Metric name as sent: a catalogue key or alias. */
  metric: string;
  value: unknown;
  /** A running total (SenML `s`): the reading of a counter metric. */
  sum?: number;
  /** Unit as sent; the metric's canonical unit when absent. */
  unit?: string;
  /** Device timestamp, when the payload carried one. */
  time: Date | undefined;
  /** What the source says of the value (Sparkplug Quality property). @defaultValue 'good' */
  quality?: Quality;
  /** Source's own quality code (Sparkplug, OPC UA), when the format carries one. */
  sourceQuality?: number;
  /** The device the value belongs to, when not the envelope's (a Sparkplug device under an edge node). */
  deviceId?: string;
  /** How the message names the value (SenML name, vendor field), for messages to people. */
  label?: string;
}

export interface Refusal {
  /** WHOLE_MESSAGE, NOTICE (−2, −3, … for several), or the index of the refused value. */
  item: number;
  reason: QuarantineReason;
  message: string;
  /** The device concerned, when not the envelope's. */
  deviceId?: string;
}

/** Bad device data is data, not an exception: decoders return this, never throw. */
export type DecodeResult =
  | { ok: true; samples: DecodedSample[]; refusals: Refusal[] }
  | { ok: false; refusal: Refusal };

export function refuseMessage(reason: QuarantineReason, message: string): DecodeResult & { ok: false } {
  return { ok: false, refusal: { item: WHOLE_MESSAGE, reason, message } };
}
