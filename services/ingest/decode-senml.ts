import { refuseMessage, type DecodedSample, type DecodeResult, type Refusal } from './decode-result.js';
import { checkInstant } from './parse-timestamp.js';
import { resolveSenmlPack } from './senml-resolve.js';
import { parseStrictJson } from './strict-json.js';

/**
 * SenML packs on `sensors/{deviceId}/senml` (RFC 8428, application/senml+json). Each
 * resolved record is one reading of the publishing device; the metric is the part of the
 * resolved name after its last "/" or ":" (`urn:dev:mac:0024befffe804ff1:pm2_5` → pm2_5),
 * a catalogue key or alias. The name before it identifies the sensor to its owner and is
 * kept in messages, but does not select a device: a device writes only its own readings.
 */

export interface SenmlDecodeOptions {
  /** The gateway's receive time: "now" for relative SenML times (RFC 8428 §4.5.3). */
  receivedAtMs: number;
  nowMs: number;
  maxFutureSkewMs: number;
}

export function metricOfName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf(':')) + 1);
}

export function decodeSenml(text: string, options: SenmlDecodeOptions): DecodeResult {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return refuseMessage(parsed.reason, parsed.message);
  const resolved = resolveSenmlPack(parsed.value, options.receivedAtMs);
  if (!resolved.ok) return refuseMessage(resolved.reason, resolved.message);

  const refusals: Refusal[] = resolved.refusals.map(({ index, reason, message }) => ({ item: index, reason, message }));
  const samples: DecodedSample[] = [];
  for (const record of resolved.records) {
    const time = checkInstant(record.timeMs, options.nowMs, options.maxFutureSkewMs);
    if (!time.ok) {
      refusals.push({ item: record.index, reason: 'timestamp_invalid', message: `record ${record.index} (${record.name.slice(0, 64)}): ${time.message}` });
      continue;
    }
    const value = record.value ?? record.booleanValue ?? record.stringValue ?? record.dataValue;
    samples.push({
      item: record.index,
      metric: metricOfName(record.name),
      label: record.name,
      value,
      time: time.time,
      ...(record.sum === undefined ? {} : { sum: record.sum }),
      ...(record.unit === undefined ? {} : { unit: record.unit }),
    });
  }
  if (samples.length === 0 && refusals.length === 0) return refuseMessage('payload_empty', 'the SenML pack holds only base values');
  return { ok: true, samples, refusals };
}
