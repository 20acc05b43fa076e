import { decodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import type { MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { CanonicalReading } from '../../contracts/reading.js';
import { parseSensorsTopic, TELEMETRY_CHANNEL } from '../../contracts/topics.js';
import { decodeNativeJson } from './decode-native-json.js';
import type { DecodeResult, Refusal } from './decode-result.js';
import { refuseMessage } from './decode-result.js';
import { normaliseSample } from './normalise.js';

export interface EnvelopeOutcome {
  readings: CanonicalReading[];
  refusals: Refusal[];
}

export interface DecodeEnvelopeOptions {
  catalogue: ReadonlyMap<string, MetricDefinition>;
  nowMs: number;
  /** Device timestamps further ahead than this are refused. @defaultValue 600000 */
  maxFutureSkewMs: number;
}

function decodeByChannel(envelope: RawEnvelope, options: DecodeEnvelopeOptions): DecodeResult {
  const topic = envelope.topic === undefined ? undefined : parseSensorsTopic(envelope.topic);
  if (topic === undefined || topic.deviceId !== envelope.deviceId) {
    return refuseMessage('topic_unsupported', `topic "${envelope.topic ?? ''}" is not sensors/${envelope.deviceId}/<channel>`);
  }
  if (topic.channel !== TELEMETRY_CHANNEL) {
    return refuseMessage('topic_unsupported', `channel "${topic.channel}" is not decoded; publish to sensors/${envelope.deviceId}/${TELEMETRY_CHANNEL}`);
  }
  if (envelope.payloadEncoding !== 'utf8') {
    return refuseMessage('payload_not_utf8', 'payload is not UTF-8 text; the telemetry channel expects JSON');
  }
  return decodeNativeJson(decodePayload(envelope).toString('utf8'), options);
}

/** Decode → normalise for one accepted message: the pure half of the ingest step. */
export function decodeEnvelope(envelope: RawEnvelope, options: DecodeEnvelopeOptions): EnvelopeOutcome {
  const decoded = decodeByChannel(envelope, options);
  if (!decoded.ok) return { readings: [], refusals: [decoded.refusal] };
  const context = { deviceId: envelope.deviceId, receivedAt: new Date(envelope.receivedAtMs), catalogue: options.catalogue };
  const readings: CanonicalReading[] = [];
  const refusals = [...decoded.refusals];
  for (const sample of decoded.samples) {
    const result = normaliseSample(sample, context);
    if (result.ok) readings.push(result.reading);
    else refusals.push(result.refusal);
  }
  return { readings, refusals };
}
