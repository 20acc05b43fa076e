import { refuseMessage, type DecodedSample, type DecodeResult, type Refusal } from './decode-result.js';
import { parseTimestamp } from './parse-timestamp.js';
import { parseStrictJson } from './strict-json.js';

/**
 * The platform's own JSON payload (docs/payloads.md, docs/native-payload.schema.json):
 *   {"ts": "2026-11-21T08:00:00+08:00", "metrics": {"pm2_5": 35.2, "co": {"value": 800, "unit": "ug/m3"}}}
 * or an array of such objects for several instants in one message. `ts` is optional
 * (the gateway's receive time is used); a value is a number in the canonical unit, a
 * `{"value", "unit"}` object, or a boolean for state metrics.
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

/** A value as sent: `35.2`, `true`, or `{"value": 0.035, "unit": "mg/m3"}`. */
function readValue(raw: unknown): { value: unknown; unit?: string } | { problem: string } {
  if (!isPlainObject(raw)) return { value: raw };
  const extra = Object.keys(raw).filter((key) => key !== 'value' && key !== 'unit');
  if (extra.length > 0 || !('value' in raw)) return { problem: `a value object is {"value": <number>, "unit": "<unit>"}, got keys ${Object.keys(raw).slice(0, 5).join(', ') || '(none)'}` };
  if (raw.unit !== undefined && (typeof raw.unit !== 'string' || raw.unit.length === 0 || raw.unit.length > 32)) {
    return { problem: '"unit" must be a unit text of 1–32 characters' };
  }
  return raw.unit === undefined ? { value: raw.value } : { value: raw.value, unit: raw.unit };
}

export function decodeNativeJson(text: string, options: NativeDecodeOptions): DecodeResult {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return refuseMessage(parsed.reason, parsed.message);
  const document = parsed.value;
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
      const parsedTime = parseTimestamp(entry.ts, options.nowMs, options.maxFutureSkewMs);
      if (!parsedTime.ok) {
        // Every value of this entry shares the bad timestamp: refuse them together.
        for (const _ of names) refusals.push({ item: item++, reason: 'timestamp_invalid', message: where + parsedTime.message });
        continue;
      }
      time = parsedTime.time;
    }
    for (const metric of names) {
      const read = readValue(entry.metrics[metric]);
      if ('problem' in read) refusals.push({ item: item++, reason: 'payload_schema', message: `${where}${metric.slice(0, 64)}: ${read.problem}` });
      else samples.push({ item: item++, metric, time, ...read });
    }
  }
  if (samples.length === 0 && refusals.length === 0) return refuseMessage('payload_empty', '"metrics" is empty');
  return { ok: true, samples, refusals };
}
