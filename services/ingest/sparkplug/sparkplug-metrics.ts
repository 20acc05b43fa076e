import type { Quality } from '../../../contracts/reading.js';
import type { Refusal } from '../decode-result.js';
import { metricOfName } from '../decode-senml.js';
import { checkInstant } from '../parse-timestamp.js';
import { metricValue, type SparkplugMetric, type SparkplugPayload } from './sparkplug-payload.js';
import type { BirthState, MetricDefinitionAtBirth, SessionContext, SessionOutcome } from './sparkplug-session.js';

/**
 * Sparkplug metrics as readings: what a BIRTH defines (alias, datatype, unit) and how a
 * BIRTH or DATA metric becomes a sample of the catalogue.
 */

/** Bookkeeping metrics of the spec, not readings (§6.4.3 bdSeq, §6.4.4 "Node Control/…", Properties). */
function isBookkeeping(name: string | undefined): boolean {
  return name === 'bdSeq' || /^(Node Control|Device Control|Properties)\//.test(name ?? '');
}

/** Sparkplug 3.0 §6.4.8: 192 good, 500 stale, 0 bad; other codes read as OPC DA quality bits. */
export function qualityOf(code: number | undefined): Quality {
  if (code === undefined || code === 192) return 'good';
  if (code === 500) return 'uncertain';
  if (code === 0) return 'bad';
  const bits = code & 0xc0;
  return bits === 0xc0 ? 'good' : bits === 0x40 ? 'uncertain' : 'bad';
}

export function birthOf(metrics: readonly SparkplugMetric[]): BirthState {
  const birth: BirthState = { born: true, aliases: {}, names: {} };
  for (const metric of metrics) {
    if (metric.name === undefined || metric.datatype === undefined) continue;
    const definition: MetricDefinitionAtBirth = { name: metric.name, datatype: metric.datatype, ...(metric.unit === undefined ? {} : { unit: metric.unit }) };
    birth.names[metric.name] = definition;
    if (metric.alias !== undefined) birth.aliases[metric.alias] = definition;
  }
  return birth;
}

export function bdSeqOf(payload: SparkplugPayload): number | undefined {
  const metric = payload.metrics.find((candidate) => candidate.name === 'bdSeq');
  if (metric === undefined) return undefined;
  const value = metricValue(metric.proto, metric.datatype ?? 8);
  return value.ok && typeof value.value === 'number' ? value.value : undefined;
}

/** Readings of a BIRTH or DATA payload, read through `birth` (aliases and datatypes). */
export function samplesOf(payload: SparkplugPayload, birth: BirthState | undefined, deviceId: string, context: SessionContext, outcome: SessionOutcome): void {
  const refuse = (item: number, reason: Refusal['reason'], message: string) => outcome.refusals.push({ item, reason, message, deviceId });
  // Aliases hold from a BIRTH to the next DEATH (Sparkplug 3.0 §6.4.2).
  const live = birth?.born === true ? birth : undefined;
  for (const metric of payload.metrics) {
    const defined = metric.alias !== undefined ? live?.aliases[metric.alias] : metric.name !== undefined ? live?.names[metric.name] : undefined;
    if (metric.name === undefined && defined === undefined) {
      refuse(metric.index, 'sparkplug_alias_unknown', `alias ${metric.alias ?? '(none)'} is not defined by a BIRTH of ${deviceId}${birth?.born ? '' : ' (no BIRTH since its last DEATH)'}`);
      continue;
    }
    const name = metric.name ?? defined?.name ?? '';
    if (isBookkeeping(name) || metric.isTransient) continue; // §6.4.4: transient metrics are not for historians
    const label = name.slice(0, 64);
    const datatype = metric.datatype ?? defined?.datatype;
    if (datatype === undefined) {
      refuse(metric.index, 'payload_schema', `${label}: no datatype, and no BIRTH gave one`);
      continue;
    }
    if (metric.isNull) {
      refuse(metric.index, 'value_not_number', `${label}: value is null (is_null)`);
      continue;
    }
    const value = metricValue(metric.proto, datatype);
    if (!value.ok) {
      refuse(metric.index, 'value_not_number', `${label}: ${value.message}`);
      continue;
    }
    const timestampMs = metric.timestampMs ?? payload.timestampMs;
    const time = timestampMs === undefined ? undefined : checkInstant(timestampMs, context.nowMs, context.maxFutureSkewMs);
    if (time !== undefined && !time.ok) {
      refuse(metric.index, 'timestamp_invalid', `${label}: ${time.message}`);
      continue;
    }
    const unit = metric.unit ?? defined?.unit;
    outcome.samples.push({
      item: metric.index, metric: metricOfName(name), label, value: value.value, deviceId,
      time: time?.time, quality: qualityOf(metric.quality),
      ...(metric.quality === undefined ? {} : { sourceQuality: metric.quality }),
      ...(unit === undefined ? {} : { unit }),
    });
  }
}

/** Unknown metrics of one message named one by one up to this many; beyond, one entry names them all. */
export const UNKNOWN_METRICS_LISTED = 10;

/**
 * An edge node often publishes hundreds of PLC tags of which a few are catalogue metrics;
 * one quarantine entry per unknown tag and message would bury everything else. Beyond
 * UNKNOWN_METRICS_LISTED, the `metric_unknown` refusals of a message become one entry
 * that names the first twenty and counts the rest.
 */
export function collapseUnknownMetrics(refusals: readonly Refusal[]): Refusal[] {
  const unknown = refusals.filter((refusal) => refusal.reason === 'metric_unknown');
  if (unknown.length <= UNKNOWN_METRICS_LISTED) return [...refusals];
  const names = unknown.slice(0, 20).map((refusal) => /"([^"]*)"\)? is not/.exec(refusal.message)?.[1] ?? '?');
  const first = unknown[0]!;
  const summary: Refusal = {
    ...first,
    message: `${unknown.length} metrics are not in the metric catalogue: ${names.join(', ')}${unknown.length > 20 ? ', …' : ''}`,
  };
  return [...refusals.filter((refusal) => refusal.reason !== 'metric_unknown'), summary];
}
