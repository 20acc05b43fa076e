import { refuseMessage, type DecodedSample, type DecodeResult, type Refusal } from './decode-result.js';
import { parseTimestamp } from './parse-timestamp.js';

/**
 * The platform's own JSON payload (docs/payloads.md):
 *   {"ts": "2026-11-21T08:00:00+08:00", "metrics": {"pm2_5": 35.2, "pm10": 61}}
 * or an array of such objects for several instants in one message. `ts` is optional
 * (the gateway's receive time is used); values are numbers, or booleans for states.
 */

/** More samples than this in one message is not a sensor, it is an attack or a bug. */
export const MAX_SAMPLES_PER_MESSAGE = 1000;
export const MAX_METRICS_PER_SAMPLE = 200;

export interface NativeDecodeOptions {
  nowMs: number;
  maxFutureSkewMs: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function decodeNativeJson(text: string, options: NativeDecodeOptions): DecodeResult {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return refuseMessage('payload_not_json', `payload is not valid JSON: ${(error as Error).message}`);
  }
  const entries = Array.isArray(document) ? document : [document];
  if (entries.length === 0) return refuseMessage('payload_empty', 'payload is an empty array');
  if (entries.length > MAX_SAMPLES_PER_MESSAGE) {
    return refuseMessage('payload_schema', `payload has ${entries.length} entries; at most ${MAX_SAMPLES_PER_MESSAGE} are accepted`);
  }

  const samples: DecodedSample[] = [];
  const refusals: Refusal[] = [];
  let item = 0;
  for (const [index, entry] of entries.entries()) {
    const where = Array.isArray(document) ? `entry ${index}: ` : '';
    if (!isPlainObject(entry) || !isPlainObject(entry.metrics)) {
      return refuseMessage('payload_schema', `${where}expected an object with a "metrics" object, as in {"metrics": {"pm2_5": 35.2}}`);
    }
    const names = Object.keys(entry.metrics);
    if (names.length > MAX_METRICS_PER_SAMPLE) {
      return refuseMessage('payload_schema', `${where}"metrics" has ${names.length} keys; at most ${MAX_METRICS_PER_SAMPLE} are accepted`);
    }
    let time: Date | undefined;
    if (entry.ts !== undefined && entry.ts !== null) {
      const parsed = parseTimestamp(entry.ts, options.nowMs, options.maxFutureSkewMs);
      if (!parsed.ok) {
        // Every value of this entry shares the bad timestamp: refuse them together.
        for (const _ of names) refusals.push({ item: item++, reason: 'timestamp_invalid', message: where + parsed.message });
        continue;
      }
      time = parsed.time;
    }
    for (const metric of names) {
      samples.push({ item: item++, metric, value: entry.metrics[metric], time });
    }
  }
  if (samples.length === 0 && refusals.length === 0) return refuseMessage('payload_empty', '"metrics" is empty');
  return { ok: true, samples, refusals };
}
