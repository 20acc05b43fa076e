import { QUALITIES } from '../../contracts/reading.js';
import type { AlertEvent } from '../alerts/alert-json.js';
import type { LiveReading } from './live-publisher.js';

/** A reading or an alert change with its SSE event id. */
export type LiveEntry = { id: string; reading: LiveReading; alert?: never } | { id: string; alert: AlertEvent; reading?: never };

/**
 * SSE event ids: the stream entry id (`ms-seq`), and for a reading of a batch entry its
 * place in the batch (`ms-seq.index`). A bare entry id stands after every reading of
 * that entry, so resuming from it skips the whole entry.
 */
export const EVENT_ID_PATTERN = /^\d{1,15}-\d{1,10}(\.\d{1,6})?$/;

interface EventPosition {
  entryId: string;
  ms: number;
  seq: number;
  index: number;
}

function positionOf(eventId: string): EventPosition {
  const dot = eventId.indexOf('.');
  const entryId = dot === -1 ? eventId : eventId.slice(0, dot);
  const dash = entryId.indexOf('-');
  return {
    entryId,
    ms: Number(entryId.slice(0, dash)),
    seq: Number(entryId.slice(dash + 1)),
    index: dot === -1 ? Number.POSITIVE_INFINITY : Number(eventId.slice(dot + 1)),
  };
}

/** Event ids in stream order: negative when `a` comes first. */
export function compareEventIds(a: string, b: string): number {
  const [first, second] = [positionOf(a), positionOf(b)];
  if (first.ms !== second.ms) return first.ms - second.ms;
  if (first.seq !== second.seq) return first.seq - second.seq;
  return first.index === second.index ? 0 : first.index < second.index ? -1 : 1;
}

/** The XRANGE start that covers every event after `eventId`: its own entry when the id is inside a batch. */
export function rangeStartAfter(eventId: string): string {
  const position = positionOf(eventId);
  return Number.isFinite(position.index) ? position.entryId : `(${position.entryId}`;
}

const QUALITY_NAMES: ReadonlySet<string> = new Set(QUALITIES);

function readingOfRow(row: unknown): LiveReading | undefined {
  if (!Array.isArray(row) || row.length !== 5) return undefined;
  const [device, metric, timeMs, value, quality] = row as unknown[];
  if (typeof device !== 'string' || typeof metric !== 'string' || typeof value !== 'number' || typeof quality !== 'string' || !QUALITY_NAMES.has(quality)) return undefined;
  const time = new Date(typeof timeMs === 'number' ? timeMs : Number.NaN);
  if (!Number.isFinite(time.getTime())) return undefined;
  return { device, metric, time: time.toISOString(), value, quality };
}

function entriesOfFields(id: string, fields: string[]): LiveEntry[] {
  for (let f = 0; f < fields.length; f += 2) {
    const [name, value] = [fields[f], fields[f + 1] ?? ''];
    if (name === 'b') {
      const rows = JSON.parse(value) as unknown;
      if (!Array.isArray(rows)) return [];
      return rows.flatMap((row, index): LiveEntry[] => {
        const reading = readingOfRow(row);
        return reading === undefined ? [] : [{ id: `${id}.${index}`, reading }];
      });
    }
    if (name === 'a') return [{ id, alert: JSON.parse(value) as AlertEvent }];
    if (name === 'r') return [{ id, reading: JSON.parse(value) as LiveReading }];
  }
  return [];
}

/** XRANGE/XREAD entries as live entries, in order; a foreign or damaged entry is skipped (the stream is not the record). */
export function toLiveEntries(raw: [id: string, fields: string[]][]): LiveEntry[] {
  return raw.flatMap(([id, fields]) => {
    try {
      return entriesOfFields(id, fields);
    } catch {
      return [];
    }
  });
}
