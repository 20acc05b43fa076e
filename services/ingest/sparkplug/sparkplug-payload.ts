import tahu from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/**
 * Sparkplug B payloads (Eclipse Sparkplug 3.0 §6.4), parsed with the protobuf schema of
 * Eclipse Tahu's `sparkplug-payload` but not with its `decodePayload`: that one needs the
 * datatype on every metric, while DATA messages should omit it (§6.4.4: the datatype of
 * an alias-only metric comes from the BIRTH), returns UInt32 ≥ 2³¹ as negative numbers,
 * and reads Int8/Int16 only in their 32-bit sign-extended form. Values are converted here,
 * by datatype, from whichever protobuf field carries them.
 */

const Payload = tahu.org.eclipse.tahu.protobuf.Payload;
type ProtoMetric = tahu.org.eclipse.tahu.protobuf.Payload.IMetric;
type ProtoPropertyValue = tahu.org.eclipse.tahu.protobuf.Payload.IPropertyValue;

/** Sparkplug 3.0 §6.4.16, DataType enum. */
export const DATATYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Int8', 2: 'Int16', 3: 'Int32', 4: 'Int64', 5: 'UInt8', 6: 'UInt16', 7: 'UInt32', 8: 'UInt64',
  9: 'Float', 10: 'Double', 11: 'Boolean', 12: 'String', 13: 'DateTime', 14: 'Text', 15: 'UUID',
  16: 'DataSet', 17: 'Bytes', 18: 'File', 19: 'Template', 20: 'PropertySet', 21: 'PropertySetList',
};
const SIGNED_BITS: Readonly<Record<number, number>> = { 1: 8, 2: 16, 3: 32, 4: 64 };
const UNSIGNED_BITS: Readonly<Record<number, number>> = { 5: 8, 6: 16, 7: 32, 8: 64 };
const QUALITY_PROPERTY = 'quality';
const UNIT_PROPERTIES = ['engunit', 'engunits', 'unit', 'units'];

export interface SparkplugMetric {
  index: number;
  name: string | undefined;
  /** uint64 as a decimal string. */
  alias: string | undefined;
  timestampMs: number | undefined;
  datatype: number | undefined;
  isNull: boolean;
  isTransient: boolean;
  /** Sparkplug 3.0 §6.4.8 "Quality Codes": 0 bad, 192 good, 500 stale. */
  quality: number | undefined;
  /** An engineering-unit property (Ignition's `engUnit`), when the metric has one. */
  unit: string | undefined;
  proto: ProtoMetric;
}

export interface SparkplugPayload {
  timestampMs: number | undefined;
  seq: bigint | undefined;
  metrics: SparkplugMetric[];
}

type LongLike = { low: number; high: number } | number;

function toBigInt(value: LongLike): bigint {
  if (typeof value === 'number') return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

function has(message: object, field: string): boolean {
  return Object.hasOwn(message, field);
}

function safeNumber(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : undefined;
}

function propertyInt(value: ProtoPropertyValue): number | undefined {
  if (has(value, 'intValue')) return Number(BigInt.asIntN(32, BigInt(value.intValue ?? 0)));
  if (has(value, 'longValue')) return safeNumber(BigInt.asIntN(64, toBigInt(value.longValue as LongLike)));
  return undefined;
}

function readProperties(metric: ProtoMetric): { quality: number | undefined; unit: string | undefined } {
  let quality: number | undefined;
  let unit: string | undefined;
  const keys = metric.properties?.keys ?? [];
  const values = metric.properties?.values ?? [];
  for (const [index, key] of keys.entries()) {
    const value = values[index] as ProtoPropertyValue | undefined;
    if (value === undefined || value.isNull) continue;
    const name = key.toLowerCase();
    if (name === QUALITY_PROPERTY) quality = propertyInt(value);
    else if (UNIT_PROPERTIES.includes(name) && typeof value.stringValue === 'string') unit = value.stringValue;
  }
  return { quality, unit };
}

export function decodeSparkplugPayload(bytes: Uint8Array): { ok: true; payload: SparkplugPayload } | { ok: false; message: string } {
  let decoded: InstanceType<typeof Payload>;
  try {
    decoded = Payload.decode(bytes);
  } catch (error) {
    // Truncated or random bytes, and nesting deep enough to exhaust the stack (RangeError).
    return { ok: false, message: `not a Sparkplug B payload: ${(error as Error).message.slice(0, 200)}` };
  }
  const metrics = decoded.metrics.map((metric, index): SparkplugMetric => ({
    index,
    name: typeof metric.name === 'string' && has(metric, 'name') ? metric.name : undefined,
    alias: has(metric, 'alias') ? toBigInt(metric.alias as LongLike).toString() : undefined,
    timestampMs: has(metric, 'timestamp') ? safeNumber(toBigInt(metric.timestamp as LongLike)) : undefined,
    datatype: typeof metric.datatype === 'number' && has(metric, 'datatype') ? metric.datatype : undefined,
    isNull: metric.isNull === true,
    isTransient: metric.isTransient === true,
    ...readProperties(metric),
    proto: metric,
  }));
  return {
    ok: true,
    payload: {
      timestampMs: has(decoded, 'timestamp') ? safeNumber(toBigInt(decoded.timestamp as LongLike)) : undefined,
      seq: has(decoded, 'seq') ? toBigInt(decoded.seq as LongLike) : undefined,
      metrics,
    },
  };
}

/** A float32 as the decimal its sender wrote: the shortest one that rounds to the same float32. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits <= 9; digits += 1) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/**
 * An integer of `bits` sent in a uint32/uint64 field. Signed values arrive as two's
 * complement, either of their own width (Int8 −4 as 252) or sign-extended to the field
 * (0xFFFFFFFC); Sparkplug 3.0 §6.4.16 names the protobuf type only, and both are in use.
 */
function integerValue(raw: bigint, fieldBits: 32 | 64, bits: number, signed: boolean): bigint | undefined {
  if (!signed) return raw < 1n << BigInt(bits) ? raw : undefined;
  if (raw < 1n << BigInt(bits)) return BigInt.asIntN(bits, raw);
  const field = 1n << BigInt(fieldBits);
  return raw >= field - (1n << BigInt(bits - 1)) ? raw - field : undefined;
}

export type MetricValue = { ok: true; value: number | boolean } | { ok: false; message: string };

/** The value of `metric` read as `datatype` (which a DATA metric takes from its BIRTH). */
export function metricValue(metric: ProtoMetric, datatype: number): MetricValue {
  const type = DATATYPE_NAMES[datatype] ?? `datatype ${datatype}`;
  const bits = SIGNED_BITS[datatype] ?? UNSIGNED_BITS[datatype];
  if (bits !== undefined) {
    const field = has(metric, 'intValue') ? 32 : has(metric, 'longValue') ? 64 : undefined;
    if (field === undefined) return { ok: false, message: `${type} value is missing` };
    const raw = field === 32 ? BigInt((metric.intValue ?? 0) >>> 0) : toBigInt(metric.longValue as LongLike);
    const integer = integerValue(raw, field, bits, SIGNED_BITS[datatype] !== undefined);
    const value = integer === undefined ? undefined : safeNumber(integer);
    if (value === undefined) return { ok: false, message: `${raw} is not a ${type} value (or not exactly representable)` };
    return { ok: true, value };
  }
  if (datatype === 9 || datatype === 10) {
    if (has(metric, 'floatValue')) return { ok: true, value: shortestFloat32(metric.floatValue ?? NaN) };
    if (has(metric, 'doubleValue')) return { ok: true, value: metric.doubleValue ?? NaN };
    return { ok: false, message: `${type} value is missing` };
  }
  if (datatype === 11) {
    return typeof metric.booleanValue === 'boolean' && has(metric, 'booleanValue') ? { ok: true, value: metric.booleanValue } : { ok: false, message: 'Boolean value is missing' };
  }
  return { ok: false, message: `a ${type} is not a number` };
}
