/**
 * Device timestamps: ISO 8601 with an offset or `Z`, or epoch seconds/milliseconds.
 * A number below 1e11 is taken as seconds (1e11 s is the year 5138; 1e11 ms is 1973),
 * so both common epoch forms work without a flag.
 */

import { parseIsoInstant } from '../../contracts/iso-time.js';

const EARLIEST_MS = Date.UTC(2000, 0, 1);
const EPOCH_SECONDS_BELOW = 1e11;

export type TimestampResult = { ok: true; time: Date } | { ok: false; message: string };

export function parseTimestamp(raw: unknown, nowMs: number, maxFutureSkewMs: number): TimestampResult {
  let ms: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, message: `timestamp ${String(raw)} is not a finite number` };
    ms = Math.abs(raw) < EPOCH_SECONDS_BELOW ? raw * 1000 : raw;
  } else if (typeof raw === 'string') {
    const parsed = parseIsoInstant(raw);
    if (parsed === undefined) {
      return { ok: false, message: `timestamp "${raw.slice(0, 64)}" is not ISO 8601 with a UTC offset or Z` };
    }
    ms = parsed;
  } else {
    return { ok: false, message: `timestamp must be an ISO 8601 string or epoch milliseconds, got ${typeof raw}` };
  }
  if (ms < EARLIEST_MS) return { ok: false, message: `timestamp ${new Date(ms).toISOString()} is before 2000` };
  if (ms > nowMs + maxFutureSkewMs) {
    return { ok: false, message: `timestamp ${new Date(ms).toISOString()} is more than ${maxFutureSkewMs} ms in the future` };
  }
  return { ok: true, time: new Date(ms) };
}
