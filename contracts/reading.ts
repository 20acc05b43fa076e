/** The canonical reading every source is normalised into (DESIGN.md, "Canonical reading"). */

export const QUALITIES = ['good', 'uncertain', 'bad'] as const;
export type Quality = (typeof QUALITIES)[number];

/** Storage code of each quality; the readings table keeps a smallint, not text. */
export const QUALITY_CODES: Readonly<Record<Quality, number>> = { good: 0, uncertain: 1, bad: 2 };

export function qualityFromCode(code: number): Quality {
  return QUALITIES[code] ?? 'bad';
}

export interface CanonicalReading {
  /** Device timestamp when the payload has one, else the gateway's receive time. */
  time: Date;
  deviceId: string;
  /** Metric catalogue key, e.g. `pm2_5`. */
  metric: string;
  /** Value in the catalogue's canonical unit. */
  value: number;
  quality: Quality;
  /** The source's own quality code (OPC UA status code, Sparkplug quality), when it has one. */
  sourceQuality?: number;
}
