/**
 * Device timestamps: ISO 8601 with an offset or `Z`, or epoch seconds/milliseconds.
 * A number below 1e11 is taken as seconds (1e11 s is the year 5138; 1e11 ms is 1973),
 * so both common epoch forms work without a flag. The source timestamp is only read,
 * never rewritten: a time too far ahead is refused, not clamped.
 */

import { parseIsoInstant } from '../../contracts/iso-time.js';
import type { TimestampFormat } from '../../contracts/device-profile.js';

const EARLIEST_MS = Date.UTC(2000, 0, 1);
const EPOCH_SECONDS_BELOW = 1e11;
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;

export type TimestampResult = { ok: true; time: Date } | { ok: false; message: string };

/** ISO 8601 where a Date can hold the instant (±8.64e15 ms); toISOString throws beyond. */
function describeInstant(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms since 1970`;
}

/** Refuses instants before 2000 or more than `maxFutureSkewMs` ahead of `nowMs`. */
export function checkInstant(ms: number, nowMs: number, maxFutureSkewMs: number): TimestampResult {
  if (!Number.isFinite(ms)) return { ok: false, message: `timestamp ${String(ms)} is not a finite number` };
  if (ms < EARLIEST_MS) return { ok: false, message: `timestamp ${describeInstant(ms)} is before 2000` };
  if (ms > nowMs + maxFutureSkewMs) {
    return { ok: false, message: `timestamp ${describeInstant(ms)} is more than ${maxFutureSkewMs} ms in the future` };
  }
  return { ok: true, time: new Date(ms) };
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? `"${raw.slice(0, 64)}"` : String(raw);
}

function localTime(raw: string, utcOffsetMinutes: number): number | undefined {
  const match = LOCAL_TIME.exec(raw);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = ''] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Math.round(Number(`0${fraction}`) * 1000);
  const date = new Date(ms);
  // Date.UTC rolls 2026-02-30 over into March: such a date is refused, not moved.
  if (date.getUTCDate() !== Number(d) || date.getUTCMonth() !== Number(mo) - 1) return undefined;
  return ms - utcOffsetMinutes * 60_000;
}

/** Reads a timestamp in the given format; `auto` accepts all but `local`. */
export function parseTimestampAs(
  raw: unknown, format: TimestampFormat, utcOffsetMinutes: number | undefined, nowMs: number, maxFutureSkewMs: number,
): TimestampResult {
  let ms: number | undefined;
  if (typeof raw === 'number' && (format === 'auto' || format === 'epoch_s' || format === 'epoch_ms')) {
    if (!Number.isFinite(raw)) return { ok: false, message: `timestamp ${String(raw)} is not a finite number` };
    const seconds = format === 'epoch_s' || (format === 'auto' && Math.abs(raw) < EPOCH_SECONDS_BELOW);
    ms = seconds ? Math.round(raw * 1000) : raw;
  } else if (typeof raw === 'string' && (format === 'auto' || format === 'iso8601')) {
    ms = parseIsoInstant(raw);
    if (ms === undefined) return { ok: false, message: `timestamp ${describe(raw)} is not ISO 8601 with a UTC offset or Z` };
  } else if (typeof raw === 'string' && format === 'local') {
    ms = localTime(raw, utcOffsetMinutes ?? 0);
    if (ms === undefined) return { ok: false, message: `timestamp ${describe(raw)} is not a local date and time like 2026-11-21 08:00:00` };
  } else {
    const expected = format === 'auto' ? 'an ISO 8601 string or epoch seconds/milliseconds' : `format ${format}`;
    return { ok: false, message: `timestamp ${describe(raw)} is not ${expected}` };
  }
  return checkInstant(ms, nowMs, maxFutureSkewMs);
}

export function parseTimestamp(raw: unknown, nowMs: number, maxFutureSkewMs: number): TimestampResult {
  return parseTimestampAs(raw, 'auto', undefined, nowMs, maxFutureSkewMs);
}
