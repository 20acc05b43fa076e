import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { ApiContext } from './api-context.js';
import { ProblemError } from './problem.js';
import { decodeCursor, encodeCursor } from './reading-cursor.js';
import { planReadings, type ReadingsQueryString } from './readings-params.js';
import { EARLIEST_INSTANT_MS, isTimeZone, LATEST_INSTANT_MS, parseBucket, parseInstantParam } from './time-params.js';

/*
 * Property tests over the query parameter parsers: any string gives a value or a 400
 * naming the parameter — never an exception of another kind, never a value the
 * database cannot take. FUZZ_RUNS raises the cases per property (docs/security.md).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const NOW = Date.parse('2026-11-21T04:00:00Z');
const KEYS = [...METRIC_CATALOGUE.keys()];
const context = {
  catalogue: METRIC_CATALOGUE,
  dictionary: { numOf: (key: string) => (KEYS.includes(key) ? KEYS.indexOf(key) + 1 : undefined), keyOf: (num: number) => KEYS[num - 1] },
} as unknown as ApiContext;

/** Strings a client might send: random text, and near-misses of the valid forms. */
const instantLike = fc.oneof(
  fc.string(), fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('Z', '+08:00', '-23:59', '+9999', ''))
    .map(([y, mo, d, zone]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:00:00${zone}`),
  fc.tuple(fc.nat(9_999_999), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'y', '')).map(([n, unit]) => `-${n}${unit}`),
  fc.constantFrom('now', 'NOW', '-0s', '-', ''),
);
const bucketLike = fc.oneof(
  fc.string(),
  fc.tuple(fc.nat(99_999), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'M', 'y')).map(([n, unit]) => `${n}${unit}`),
  fc.tuple(fc.option(fc.nat(99_999)), fc.option(fc.nat(99_999)), fc.option(fc.nat(99_999)), fc.boolean())
    .map(([a, b, c, time]) => (time ? `PT${a === null ? '' : `${a}H`}${b === null ? '' : `${b}M`}${c === null ? '' : `${c}S`}` : `P${a === null ? '' : `${a}M`}${b === null ? '' : `${b}W`}${c === null ? '' : `${c}D`}`)),
);

/** Runs `parse`; a ProblemError must be a 400 naming one of `names`, anything else thrown fails the property. */
function answersOrNames<T>(parse: () => T, names: readonly string[]): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    const problem = error as ProblemError;
    expect(problem.status).toBe(400);
    expect(names).toContain(problem.errors?.[0]?.name);
    return undefined;
  }
}

describe('query parameter parsers (fuzz)', () => {
  it('instants: any string is an instant within years 1–9999 or undefined; ISO instants read back exactly', () => {
    fc.assert(fc.property(instantLike, (raw) => {
      const ms = parseInstantParam(raw, NOW);
      if (ms !== undefined) expect(ms >= EARLIEST_INSTANT_MS && ms <= LATEST_INSTANT_MS && Number.isFinite(ms)).toBe(true);
    }), { numRuns: RUNS });
    fc.assert(fc.property(fc.date({ min: new Date(EARLIEST_INSTANT_MS), max: new Date(LATEST_INSTANT_MS), noInvalidDate: true }), (date) => {
      expect(parseInstantParam(date.toISOString(), NOW)).toBe(date.getTime());
    }), { numRuns: RUNS });
  });

  it('buckets: any string is a positive width or undefined, and a bucket reads back from its ISO form', () => {
    fc.assert(fc.property(bucketLike, (raw) => {
      const bucket = parseBucket(raw);
      if (bucket === undefined) return;
      if (bucket.kind === 'fixed') expect(Number.isSafeInteger(bucket.ms) && bucket.ms > 0).toBe(true);
      else expect(Number.isSafeInteger(bucket.count) && bucket.count > 0).toBe(true);
      expect(parseBucket(bucket.iso)).toEqual(bucket);
    }), { numRuns: RUNS });
  });

  it('time zones: the answer for any name is what Intl says, also when asked again (known zones are remembered)', () => {
    const intlKnows = (tz: string) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    };
    const zoneLike = fc.oneof(fc.constantFrom('Asia/Shanghai', 'asia/SHANGHAI', 'UTC', 'Etc/UTC', 'Mars/Olympus', '', 'Asia/Shanghai ', '+08:00'), fc.string({ maxLength: 40 }));
    fc.assert(fc.property(zoneLike, (tz) => {
      expect(isTimeZone(tz)).toBe(intlKnows(tz));
      expect(isTimeZone(tz)).toBe(intlKnows(tz));
    }), { numRuns: RUNS });
    expect([isTimeZone('Asia/Shanghai'), isTimeZone('asia/SHANGHAI'), isTimeZone('Mars/Olympus')]).toEqual([true, true, false]);
  });

  it('cursors: any string decodes to a position or undefined, and every position round-trips', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.base64String(), fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'))), (raw) => {
      const position = decodeCursor(raw);
      if (position !== undefined) expect(Number.isNaN(position.time.getTime())).toBe(false);
    }), { numRuns: RUNS });
    const position = fc.record({
      time: fc.date({ noInvalidDate: true }), metricNum: fc.integer({ min: 0, max: 32767 }), deviceNum: fc.option(fc.nat(), { nil: undefined }),
    }).map(({ deviceNum, ...rest }) => (deviceNum === undefined ? rest : { ...rest, deviceNum }));
    fc.assert(fc.property(position, (value) => {
      expect(decodeCursor(encodeCursor(value))).toEqual(value);
    }), { numRuns: RUNS });
  });

  it('the readings plan: any query gives a plan the database can run, or a 400 naming the parameter', () => {
    const query = fc.record({
      metric: fc.option(fc.oneof(fc.string(), fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.string()), { maxLength: 4 }).map((keys) => keys.join(','))), { nil: undefined }),
      from: fc.option(instantLike, { nil: undefined }),
      to: fc.option(instantLike, { nil: undefined }),
      order: fc.constantFrom('asc', 'desc'),
      limit: fc.integer({ min: 1, max: 500 }),
      cursor: fc.option(fc.oneof(fc.string(), fc.constant(encodeCursor({ time: new Date(NOW), metricNum: 1 }))), { nil: undefined }),
      bucket: fc.option(bucketLike, { nil: undefined }),
      agg: fc.option(fc.oneof(fc.string(), fc.constantFrom('avg', 'min,max', 'avg,avg,count', 'sum;drop')), { nil: undefined }),
      tz: fc.oneof(fc.constantFrom('Asia/Shanghai', 'UTC', 'Mars/Olympus', ''), fc.string()),
      fill: fc.constantFrom('none', 'null'),
    }, { requiredKeys: ['order', 'limit', 'tz', 'fill'] });
    fc.assert(fc.property(query, (raw) => {
      const plan = answersOrNames(() => planReadings(context, raw as ReadingsQueryString, NOW), ['metric', 'from', 'to', 'cursor', 'bucket', 'agg', 'tz']);
      if (plan === undefined) return;
      expect(plan.from < plan.to).toBe(true);
      expect(plan.from >= EARLIEST_INSTANT_MS && plan.to <= LATEST_INSTANT_MS).toBe(true);
      for (const num of plan.metricNums ?? []) expect(Number.isInteger(num)).toBe(true);
    }), { numRuns: RUNS });
  });
});
