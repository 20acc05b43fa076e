/**
 * Opaque keyset cursors for raw readings: the (time, metric) position of the last
 * row returned. Keyset rather than offset, so pages stay correct and fast while new
 * readings arrive.
 */

export interface CursorPosition {
  time: Date;
  metricNum: number;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ t: position.time.getTime(), m: position.metricNum })).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { t, m } = value as { t?: unknown; m?: unknown };
    if (!Number.isSafeInteger(t) || !Number.isInteger(m) || (m as number) < 0 || (m as number) > 32767) return undefined;
    const time = new Date(t as number);
    return Number.isNaN(time.getTime()) ? undefined : { time, metricNum: m as number };
  } catch {
    return undefined;
  }
}
