import { parseIsoInstant } from '../../contracts/iso-time.js';

/**
 * Query-string time parameters: instants (ISO 8601 with offset, `now`, or relative to
 * now like `-24h`) and bucket widths (shorthands or ISO 8601 durations). Pure: the
 * routes turn `undefined` answers into 400 problems naming the parameter.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const RELATIVE_PATTERN = /^-(\d{1,6})(s|m|h|d|w)$/;

/**
 * The instants a query may name: years 1 to 9999. PostgreSQL's timestamps end in 4713 BC,
 * JavaScript's in 271 821 BC, and `-999999w` lies between: the query would fail (a 500).
 */
export const EARLIEST_INSTANT_MS = Date.parse('0001-01-01T00:00:00Z');
export const LATEST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Epoch ms of `raw` at request time `nowMs`; `undefined` when it is neither an instant nor relative, or outside years 1–9999. */
export function parseInstantParam(raw: string, nowMs: number): number | undefined {
  let ms: number | undefined;
  const relative = RELATIVE_PATTERN.exec(raw);
  if (raw === 'now') ms = nowMs;
  else if (relative?.[1] !== undefined && relative[2] !== undefined) ms = nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  else ms = parseIsoInstant(raw);
  return ms === undefined || ms < EARLIEST_INSTANT_MS || ms > LATEST_INSTANT_MS ? undefined : ms;
}

/**
 * A bucket width. `fixed` buckets are a whole number of ms, laid from local midnight of
 * the zone; `calendar` ones (days, weeks, months) follow the zone's calendar, so a day
 * is 23 or 25 hours across a DST change and a month is a calendar month.
 */
export type Bucket =
  | { kind: 'fixed'; ms: number; iso: string }
  | { kind: 'calendar'; unit: 'day' | 'week' | 'month'; count: number; iso: string };

/** `<n><unit>`: s, m (minutes) and h are fixed widths; d, w and M (months) follow the calendar. */
const SHORTHAND = /^(\d{1,4})(s|m|h|d|w|M)$/;

function shorthand(raw: string): Bucket | undefined {
  const match = SHORTHAND.exec(raw);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const count = Number(match[1]);
  if (count <= 0) return undefined;
  switch (match[2]) {
    case 's': return { kind: 'fixed', ms: count * 1000, iso: `PT${count}S` };
    case 'm': return { kind: 'fixed', ms: count * 60_000, iso: `PT${count}M` };
    case 'h': return { kind: 'fixed', ms: count * 3_600_000, iso: `PT${count}H` };
    case 'd': return { kind: 'calendar', unit: 'day', count, iso: `P${count}D` };
    case 'w': return { kind: 'calendar', unit: 'week', count, iso: `P${count}W` };
    default: return { kind: 'calendar', unit: 'month', count, iso: `P${count}M` };
  }
}

const DATE_PART = /^P(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,4})D)?$/;
const TIME_PART = /^PT(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?$/;

/** A bucket from a shorthand (`1m`, `5m`, `15m`, `1h`, `6h`, `1d`, `1w`, `1M`) or an ISO 8601 duration (`PT30S`, `PT6H`, `P1D`, `P1W`, `P3M`); mixed date and time parts are refused. */
export function parseBucket(raw: string): Bucket | undefined {
  const short = shorthand(raw);
  if (short !== undefined) return short;
  const time = TIME_PART.exec(raw);
  if (time !== null && raw !== 'PT') {
    const [h = '0', m = '0', s = '0'] = [time[1], time[2], time[3]];
    const ms = (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000;
    return ms > 0 ? { kind: 'fixed', ms, iso: raw } : undefined;
  }
  const date = DATE_PART.exec(raw);
  if (date !== null && raw !== 'P') {
    const parts = [date[1], date[2], date[3]].filter((part) => part !== undefined);
    if (parts.length !== 1) return undefined;
    const count = Number(parts[0]);
    if (count <= 0) return undefined;
    const unit = date[1] !== undefined ? 'month' : date[2] !== undefined ? 'week' : 'day';
    return { kind: 'calendar', unit, count, iso: raw };
  }
  return undefined;
}

/**
 * Zones already accepted. Building an Intl.DateTimeFormat to ask took about 0.3 ms of every
 * readings request (issue 9, API profile); only valid names are kept, and there are a few
 * hundred (canonical names only), so hostile `tz` values cannot grow it.
 */
const knownZones = new Set<string>();

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  if (knownZones.has(tz)) return true;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // Intl also accepts other spellings (`asia/SHANGHAI`): answered, but only the canonical name is kept.
  if (canonical === tz) knownZones.add(tz);
  return true;
}
