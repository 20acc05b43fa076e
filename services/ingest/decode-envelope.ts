import type { DeviceProfile } from '../../contracts/device-profile.js';
import { decodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import type { MetricCatalogue } from '../../contracts/metric-catalogue.js';
import type { CanonicalReading } from '../../contracts/reading.js';
import { parseSensorsTopic, SENML_CHANNEL, TELEMETRY_CHANNEL } from '../../contracts/topics.js';
import { decodeNativeJson } from './decode-native-json.js';
import { decodeOpcua } from './decode-opcua.js';
import type { DecodedSample, DecodeResult, Refusal } from './decode-result.js';
import { refuseMessage } from './decode-result.js';
import { decodeSenml } from './decode-senml.js';
import { decodeVendorJson } from './decode-vendor-json.js';
import { normaliseSample } from './normalise.js';

export interface EnvelopeOutcome {
  readings: CanonicalReading[];
  refusals: Refusal[];
}

export interface DecodeEnvelopeOptions {
  catalogue: MetricCatalogue;
  nowMs: number;
  /** Device timestamps further ahead than this are refused. @defaultValue 600000 */
  maxFutureSkewMs: number;
  /**
   * The vendor profile the device was registered with: its telemetry is the vendor's
   * JSON. `missing` when the device names a profile the configuration no longer has.
   */
  profile?: DeviceProfile | { missing: string };
}

function decodeByChannel(envelope: RawEnvelope, options: DecodeEnvelopeOptions): DecodeResult {
  if (envelope.source === 'opcua') return decodeOpcua(envelope, { nowMs: options.nowMs, maxFutureSkewMs: options.maxFutureSkewMs });
  const topic = envelope.topic === undefined ? undefined : parseSensorsTopic(envelope.topic);
  if (topic === undefined || topic.deviceId !== envelope.deviceId) {
    return refuseMessage('topic_unsupported', `topic "${envelope.topic ?? ''}" is not sensors/${envelope.deviceId}/<channel>`);
  }
  if (topic.channel !== TELEMETRY_CHANNEL && topic.channel !== SENML_CHANNEL) {
    return refuseMessage('topic_unsupported', `channel "${topic.channel.slice(0, 64)}" is not decoded; publish to sensors/${envelope.deviceId}/${TELEMETRY_CHANNEL} or …/${SENML_CHANNEL}`);
  }
  if (envelope.payloadEncoding !== 'utf8') {
    return refuseMessage('payload_not_utf8', `payload is not UTF-8 text; the ${topic.channel} channel expects JSON`);
  }
  const text = decodePayload(envelope).toString('utf8');
  const timing = { nowMs: options.nowMs, maxFutureSkewMs: options.maxFutureSkewMs };
  if (topic.channel === SENML_CHANNEL) return decodeSenml(text, { ...timing, receivedAtMs: envelope.receivedAtMs });
  const profile = options.profile;
  if (profile === undefined) return decodeNativeJson(text, timing);
  if ('missing' in profile) {
    return refuseMessage('profile_unknown', `device ${envelope.deviceId} was registered with profile "${profile.missing}", which DEVICE_PROFILES_FILE does not define`);
  }
  return decodeVendorJson(text, profile, timing);
}

/**
 * Normalises decoded samples and refuses later copies of one (device, metric, time):
 * storage would keep the first anyway, and a second value must not vanish unexplained.
 */
export function normaliseSamples(
  samples: readonly DecodedSample[], refusals: readonly Refusal[],
  context: { deviceId: string; receivedAt: Date; catalogue: MetricCatalogue },
): EnvelopeOutcome {
  const readings: CanonicalReading[] = [];
  const outcomeRefusals = [...refusals];
  const seen = new Map<string, number>();
  for (const sample of samples) {
    const result = normaliseSample(sample, context);
    if (!result.ok) {
      outcomeRefusals.push(result.refusal);
      continue;
    }
    const { reading } = result;
    const key = `${reading.deviceId}\u0000${reading.metric}\u0000${reading.time.getTime()}`;
    const first = seen.get(key);
    if (first !== undefined) {
      outcomeRefusals.push({
        item: sample.item,
        reason: 'reading_duplicate',
        message: `${reading.metric} at ${reading.time.toISOString()} appears more than once in the message (items ${first} and ${sample.item}); the first is kept`,
        ...(sample.deviceId === undefined ? {} : { deviceId: sample.deviceId }),
      });
      continue;
    }
    seen.set(key, sample.item);
    readings.push(reading);
  }
  return { readings, refusals: outcomeRefusals };
}

/** Decode → normalise for one message on a `sensors/{deviceId}/…` topic: the pure half of the ingest step. */
export function decodeEnvelope(envelope: RawEnvelope, options: DecodeEnvelopeOptions): EnvelopeOutcome {
  const decoded = decodeByChannel(envelope, options);
  if (!decoded.ok) return { readings: [], refusals: [decoded.refusal] };
  return normaliseSamples(decoded.samples, decoded.refusals, {
    deviceId: envelope.deviceId, receivedAt: new Date(envelope.receivedAtMs), catalogue: options.catalogue,
  });
}
