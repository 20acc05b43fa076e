import type { MetricCatalogue, MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { CanonicalReading } from '../../contracts/reading.js';
import type { DecodedSample, Refusal } from './decode-result.js';

export type NormaliseResult = { ok: true; reading: CanonicalReading } | { ok: false; refusal: Refusal };

export interface NormaliseContext {
  deviceId: string;
  receivedAt: Date;
  catalogue: MetricCatalogue;
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function unitsOf(definition: MetricDefinition): string {
  const others = definition.units.map((unit) => unit.unit);
  return `${definition.unit}${others.length > 0 ? ` (or ${others.join(', ')})` : ''}`;
}

/** The value a sample carries for its metric: a counter takes a running total (SenML `s`) when there is one. */
function pickValue(sample: DecodedSample, definition: MetricDefinition): { value: unknown } | { refusal: string } {
  if (definition.kind === 'counter' && sample.sum !== undefined) return { value: sample.sum };
  if (sample.value === undefined && sample.sum !== undefined) {
    return { refusal: `${definition.key}: only a sum (s) was sent, and a sum is a reading of counter metrics only; ${definition.key} is a ${definition.kind}` };
  }
  return { value: sample.value };
}

/**
 * Turns one decoded sample into a canonical reading — catalogue name, canonical unit,
 * physical range — or says why it cannot be one.
 */
export function normaliseSample(sample: DecodedSample, context: NormaliseContext): NormaliseResult {
  const refuse = (reason: Refusal['reason'], message: string): NormaliseResult => ({
    ok: false,
    refusal: { item: sample.item, reason, message, ...(sample.deviceId === undefined ? {} : { deviceId: sample.deviceId }) },
  });
  const definition = context.catalogue.find(sample.metric);
  if (definition === undefined) {
    const label = sample.label !== undefined && sample.label !== sample.metric ? ` (in "${sample.label.slice(0, 64)}")` : '';
    return refuse('metric_unknown', `metric "${sample.metric.slice(0, 64)}"${label} is not in the metric catalogue`);
  }
  const picked = pickValue(sample, definition);
  if ('refusal' in picked) return refuse('value_not_number', picked.refusal);
  let value: number;
  if (typeof picked.value === 'number' && Number.isFinite(picked.value)) {
    value = picked.value;
    if (sample.unit !== undefined) {
      const conversion = context.catalogue.conversion(definition, sample.unit);
      if (conversion === undefined) {
        return refuse('unit_mismatch', `${definition.key}: unit "${sample.unit.slice(0, 32)}" is not accepted; send ${unitsOf(definition)}`);
      }
      value = conversion.convert(value);
    }
  } else if (typeof picked.value === 'boolean' && definition.kind === 'state') {
    value = picked.value ? 1 : 0;
  } else {
    return refuse('value_not_number', `${definition.key}: value ${describe(picked.value)} is not a finite number`);
  }
  if (definition.kind === 'state' && value !== 0 && value !== 1) {
    return refuse('value_out_of_range', `${definition.key} is a state: 0 or 1 (false or true), got ${value}`);
  }
  if (!(value >= definition.min && value <= definition.max)) {
    return refuse(
      'value_out_of_range',
      `${definition.key}: ${value} ${definition.symbol} is outside the physical range ${definition.min}…${definition.max}`,
    );
  }
  return {
    ok: true,
    reading: {
      time: sample.time ?? context.receivedAt,
      deviceId: sample.deviceId ?? context.deviceId,
      metric: definition.key,
      value,
      quality: sample.quality ?? 'good',
      ...(sample.sourceQuality === undefined ? {} : { sourceQuality: sample.sourceQuality }),
    },
  };
}
