import type { QuarantineReason } from '../../contracts/error-codes.js';

/** One value as the device sent it, before the catalogue has looked at it. */
export interface DecodedSample {
  /** Position within the message, so a refused value can be named and quarantined once. */
  item: number;
  metric: string;
  value: unknown;
  /** Device timestamp, when the payload carried one. */
  time: Date | undefined;
  /** Source's own quality code (Sparkplug, OPC UA), when the format carries one. */
  sourceQuality?: number;
}

export interface Refusal {
  /** -1 refuses the whole message. */
  item: number;
  reason: QuarantineReason;
  message: string;
}

/** Bad device data is data, not an exception: decoders return this, never throw. */
export type DecodeResult =
  | { ok: true; samples: DecodedSample[]; refusals: Refusal[] }
  | { ok: false; refusal: Refusal };

export function refuseMessage(reason: QuarantineReason, message: string): DecodeResult {
  return { ok: false, refusal: { item: -1, reason, message } };
}
