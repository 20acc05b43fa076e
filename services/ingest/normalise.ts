import type { MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { CanonicalReading } from '../../contracts/reading.js';
import type { DecodedSample, Refusal } from './decode-result.js';

export type NormaliseResult = { ok: true; reading: CanonicalReading } | { ok: false; refusal: Refusal };

export interface NormaliseContext {
  deviceId: string;
  receivedAt: Date;
  catalogue: ReadonlyMap<string, MetricDefinition>;
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Turns one decoded sample into a canonical reading, or says why it cannot be one. */
export function normaliseSample(sample: DecodedSample, context: NormaliseContext): NormaliseResult {
  const refuse = (reason: Refusal['reason'], message: string): NormaliseResult => ({
    ok: false,
    refusal: { item: sample.item, reason, message },
  });
  const definition = context.catalogue.get(sample.metric);
  if (definition === undefined) {
    return refuse('metric_unknown', `metric "${sample.metric.slice(0, 64)}" is not in the metric catalogue`);
  }
  let value: number;
  if (typeof sample.value === 'number' && Number.isFinite(sample.value)) {
    value = sample.value;
  } else if (typeof sample.value === 'boolean' && definition.kind === 'state') {
    value = sample.value ? 1 : 0;
  } else {
    return refuse('value_not_number', `${definition.key}: value ${describe(sample.value)} is not a finite number`);
  }
  if (value < definition.min || value > definition.max) {
    return refuse(
      'value_out_of_range',
      `${definition.key}: ${value} ${definition.symbol} is outside the physical range ${definition.min}…${definition.max}`,
    );
  }
  return {
    ok: true,
    reading: {
      time: sample.time ?? context.receivedAt,
      deviceId: context.deviceId,
      metric: definition.key,
      value,
      quality: 'good',
      ...(sample.sourceQuality === undefined ? {} : { sourceQuality: sample.sourceQuality }),
    },
  };
}
