import type { QuarantineReason } from '../../contracts/error-codes.js';
import { addRational, multiplyRational, rationalOfNumber, rationalToNumber, type Rational } from '../../contracts/exact-decimal.js';

/**
 * SenML packs (RFC 8428) resolved as §4.6 says: for each Record, the base values in it or
 * in Records before it apply — Base Name prefixed to Name, Base Time added to Time, Base
 * Value added to Value, Base Sum added to Sum, Base Unit used when the Record has no
 * Unit — each base field holding until the next Record that has the same field (§4.1).
 * Times below 2**28 are relative to "now" (§4.5.3); here "now" is the gateway's receive
 * time, never the worker's clock. Additions are exact on the decimals sent.
 */

/** SenML version this reader implements (RFC 8428 §4.4: the default Base Version). */
export const SENML_VERSION = 10;
/** §4.5.3: a resolved time below 2**28 seconds is relative to now. */
export const RELATIVE_TIME_LIMIT = 2 ** 28;
export const MAX_RECORDS_PER_PACK = 1000;
/** §4.5.1: the characters of a resolved name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;

export interface ResolvedRecord {
  /** Position of the Record in the pack. */
  index: number;
  name: string;
  unit: string | undefined;
  value: number | undefined;
  stringValue: string | undefined;
  booleanValue: boolean | undefined;
  dataValue: string | undefined;
  sum: number | undefined;
  /** Absolute time, epoch milliseconds. */
  timeMs: number;
}

export interface RecordRefusal {
  index: number;
  reason: QuarantineReason;
  message: string;
}

export type ResolveResult =
  | { ok: true; records: ResolvedRecord[]; refusals: RecordRefusal[] }
  | { ok: false; reason: QuarantineReason; message: string };

const TYPES: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = {
  bn: 'string', bt: 'number', bu: 'string', bv: 'number', bs: 'number', bver: 'number',
  n: 'string', u: 'string', v: 'number', vs: 'string', vb: 'boolean', vd: 'string', s: 'number', t: 'number', ut: 'number',
};
const BASE_FIELDS = ['bn', 'bt', 'bu', 'bv', 'bs'] as const;
const VALUE_FIELDS = ['v', 'vs', 'vb', 'vd', 's'] as const;

type Record_ = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Record_ {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exact(value: unknown): Rational | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? rationalOfNumber(value) : undefined;
}

function sum(base: Rational | undefined, own: number): number {
  return base === undefined ? own : rationalToNumber(addRational(base, rationalOfNumber(own)));
}

/** The first field of `record` whose type is wrong, as a message; `undefined` when all are right. */
function typeProblem(record: Record_, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = record[field];
    if (value === undefined) continue;
    const expected = TYPES[field];
    const ok = expected === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === expected;
    if (!ok) return `"${field}" must be a ${expected === 'number' ? 'finite number' : expected}, got ${JSON.stringify(value)?.slice(0, 40)}`;
  }
  return undefined;
}

export function resolveSenmlPack(pack: unknown, nowMs: number): ResolveResult {
  if (!Array.isArray(pack)) return { ok: false, reason: 'payload_schema', message: 'a SenML pack is a JSON array of records (RFC 8428 §4)' };
  if (pack.length === 0) return { ok: false, reason: 'payload_empty', message: 'the SenML pack has no records' };
  if (pack.length > MAX_RECORDS_PER_PACK) {
    return { ok: false, reason: 'payload_schema', message: `the pack has ${pack.length} records; at most ${MAX_RECORDS_PER_PACK} are accepted` };
  }
  let version: number | undefined;
  for (const [index, record] of pack.entries()) {
    if (!isRecord(record)) return { ok: false, reason: 'payload_schema', message: `record ${index} is not an object` };
    // §4.4: labels ending in "_" must be understood; this reader knows none.
    const mustUnderstand = Object.keys(record).find((key) => key.endsWith('_'));
    if (mustUnderstand !== undefined) {
      return { ok: false, reason: 'payload_schema', message: `record ${index} has the must-understand field "${mustUnderstand.slice(0, 32)}", which this platform does not implement (RFC 8428 §4.4)` };
    }
    // A bad base field would mis-resolve every later record: the whole pack is refused.
    const problem = typeProblem(record, [...BASE_FIELDS, 'bver']);
    if (problem !== undefined) return { ok: false, reason: 'payload_schema', message: `record ${index}: ${problem}` };
    if (record.bver !== undefined) {
      const bver = record.bver as number;
      if (!Number.isInteger(bver) || bver < 1) return { ok: false, reason: 'payload_schema', message: `record ${index}: bver must be a positive integer` };
      if (bver > SENML_VERSION) return { ok: false, reason: 'payload_schema', message: `bver ${bver} is newer than SenML version ${SENML_VERSION}, which this platform reads (RFC 8428 §4.4)` };
      if (version !== undefined && version !== bver) return { ok: false, reason: 'payload_schema', message: 'all records of a pack must have the same version (RFC 8428 §4.4)' };
      version = bver;
    }
  }

  const base: { bn?: string; bt?: Rational; bu?: string; bv?: Rational; bs?: Rational } = {};
  const records: ResolvedRecord[] = [];
  const refusals: RecordRefusal[] = [];
  for (const [index, record] of (pack as Record_[]).entries()) {
    if (record.bn !== undefined) base.bn = record.bn as string;
    if (record.bt !== undefined) base.bt = exact(record.bt);
    if (record.bu !== undefined) base.bu = record.bu as string;
    if (record.bv !== undefined) base.bv = exact(record.bv);
    if (record.bs !== undefined) base.bs = exact(record.bs);
    const refuse = (reason: QuarantineReason, message: string) => refusals.push({ index, reason, message: `record ${index}: ${message}` });

    const hasValue = VALUE_FIELDS.some((field) => record[field] !== undefined);
    if (!hasValue) {
      // A record of base fields only sets them for the records after it (RFC 8428 §5.1.7).
      if (record.n !== undefined || record.t !== undefined || record.u !== undefined) refuse('payload_schema', 'has no value (v, vs, vb, vd or s)');
      continue;
    }
    const problem = typeProblem(record, ['n', 'u', 'ut']);
    if (problem !== undefined) {
      refuse('payload_schema', problem);
      continue;
    }
    const name = `${base.bn ?? ''}${(record.n as string | undefined) ?? ''}`;
    if (!NAME.test(name)) {
      refuse('payload_schema', `resolved name "${name.slice(0, 64)}" is not a SenML name (RFC 8428 §4.5.1)`);
      continue;
    }
    if (typeProblem(record, ['t']) !== undefined) {
      refuse('timestamp_invalid', `"t" must be a number of seconds, got ${JSON.stringify(record.t)?.slice(0, 40)}`);
      continue;
    }
    const valueProblem = typeProblem(record, [...VALUE_FIELDS]);
    if (valueProblem !== undefined) {
      refuse('value_not_number', valueProblem);
      continue;
    }
    const seconds = addRational(base.bt ?? { n: 0n, d: 1n }, exact(record.t ?? 0) as Rational);
    const absolute = rationalToNumber(seconds) < RELATIVE_TIME_LIMIT ? addRational(seconds, { n: BigInt(Math.round(nowMs)), d: 1000n }) : seconds;
    records.push({
      index,
      name,
      unit: (record.u as string | undefined) ?? base.bu,
      value: record.v === undefined ? undefined : sum(base.bv, record.v as number),
      stringValue: record.vs as string | undefined,
      booleanValue: record.vb as boolean | undefined,
      dataValue: record.vd as string | undefined,
      sum: record.s === undefined ? undefined : sum(base.bs, record.s as number),
      timeMs: Math.round(rationalToNumber(multiplyRational(absolute, { n: 1000n, d: 1n }))),
    });
  }
  return { ok: true, records, refusals };
}
