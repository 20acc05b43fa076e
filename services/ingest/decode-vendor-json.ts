import type { DeviceProfile } from '../../contracts/device-profile.js';
import { refuseMessage, type DecodedSample, type DecodeResult, type Refusal } from './decode-result.js';
import { MAX_METRICS_PER_SAMPLE, MAX_SAMPLES_PER_MESSAGE } from './decode-native-json.js';
import { parseTimestampAs } from './parse-timestamp.js';
import { parseStrictJson } from './strict-json.js';

/**
 * A vendor's own JSON, read through the device's profile (DEVICE_PROFILES_FILE,
 * contracts/device-profile.ts): each mapped field becomes a sample of its catalogue
 * metric in the vendor's unit; fields the profile does not know are quarantined as
 * `metric_unknown` unless the profile says `unmapped: ignore`.
 */

export interface VendorDecodeOptions {
  nowMs: number;
  maxFutureSkewMs: number;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function at(document: unknown, path: readonly string[]): unknown {
  let value = document;
  for (const key of path) value = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
  return value;
}

/** Leaves of a record by dotted path, stopping at mapped paths so a mapped object is one value. */
function leaves(value: Json, profile: DeviceProfile, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, child]): [string, unknown][] => {
    const path = `${prefix}${key}`;
    if (isObject(child) && !profile.fields.has(path)) return leaves(child, profile, `${path}.`);
    return [[path, child]];
  });
}

export function decodeVendorJson(text: string, profile: DeviceProfile, options: VendorDecodeOptions): DecodeResult {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return refuseMessage(parsed.reason, parsed.message);
  const container = profile.records === undefined ? parsed.value : at(parsed.value, profile.records);
  const records = Array.isArray(container) ? container : [container];
  if (profile.records !== undefined && !Array.isArray(container)) {
    return refuseMessage('payload_schema', `profile ${profile.name}: "${profile.records.join('.')}" is not an array of records`);
  }
  if (records.length === 0) return refuseMessage('payload_empty', 'the payload has no records');
  if (records.length > MAX_SAMPLES_PER_MESSAGE) return refuseMessage('payload_schema', `the payload has ${records.length} records; at most ${MAX_SAMPLES_PER_MESSAGE} are accepted`);

  const samples: DecodedSample[] = [];
  const refusals: Refusal[] = [];
  let item = 0;
  for (const [index, record] of records.entries()) {
    const where = records.length > 1 ? `record ${index}: ` : '';
    if (!isObject(record)) return refuseMessage('payload_schema', `${where}profile ${profile.name} expects a JSON object`);
    const timestampPath = profile.timestamp?.path.join('.');
    let time: Date | undefined;
    let timeProblem: string | undefined;
    if (profile.timestamp !== undefined) {
      const raw = at(record, profile.timestamp.path);
      const result = raw === undefined
        ? { ok: false as const, message: `timestamp field "${timestampPath}" is missing` }
        : parseTimestampAs(raw, profile.timestamp.format, profile.timestamp.utcOffsetMinutes, options.nowMs, options.maxFutureSkewMs);
      if (result.ok) time = result.time;
      else timeProblem = result.message;
    }
    const fields = leaves(record, profile);
    if (fields.length > MAX_METRICS_PER_SAMPLE) {
      return refuseMessage('payload_schema', `${where}the record has ${fields.length} fields; at most ${MAX_METRICS_PER_SAMPLE} are accepted`);
    }
    for (const [path, value] of fields) {
      if (path === timestampPath) continue;
      const mapping = profile.fields.get(path);
      if (mapping === 'ignore') continue;
      if (mapping === undefined) {
        if (profile.unmapped === 'quarantine') {
          refusals.push({ item: item++, reason: 'metric_unknown', message: `${where}vendor field "${path.slice(0, 64)}" is not mapped by profile ${profile.name}` });
        }
        continue;
      }
      if (timeProblem !== undefined) {
        refusals.push({ item: item++, reason: 'timestamp_invalid', message: `${where}${timeProblem}` });
        continue;
      }
      samples.push({ item: item++, metric: mapping.metric, value, time, label: path, ...(mapping.unit === undefined ? {} : { unit: mapping.unit }) });
    }
  }
  if (samples.length === 0 && refusals.length === 0) return refuseMessage('payload_empty', `no field of the payload is mapped by profile ${profile.name}`);
  return { ok: true, samples, refusals };
}
