/**
 * Opaque keyset cursors for raw readings: the (time, metric) position of the last
 * row returned. Keyset rather than offset, so pages stay correct and fast while new
 * readings arrive.
 */

export interface CursorPosition {
  time: Date;
  metricNum: number;
  /** The device of the last row, in multi-series pages (ordered by time, device, metric). */
  deviceNum?: number;
}

export function encodeCursor(position: CursorPosition): string {
  const device = position.deviceNum === undefined ? {} : { d: position.deviceNum };
  return Buffer.from(JSON.stringify({ t: position.time.getTime(), m: position.metricNum, ...device })).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { t, m, d } = value as { t?: unknown; m?: unknown; d?: unknown };
    if (!Number.isSafeInteger(t) || !Number.isInteger(m) || (m as number) < 0 || (m as number) > 32767) return undefined;
    if (d !== undefined && (!Number.isSafeInteger(d) || (d as number) < 0)) return undefined;
    const time = new Date(t as number);
    if (Number.isNaN(time.getTime())) return undefined;
    return d === undefined ? { time, metricNum: m as number } : { time, metricNum: m as number, deviceNum: d as number };
  } catch {
    return undefined;
  }
}
