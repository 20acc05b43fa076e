import { describe, expect, it } from 'vitest';
import { resolveSenmlPack, type ResolvedRecord } from './senml-resolve.js';

/*
 * The example packs of RFC 8428, as the RFC prints them, and the records the RFC says
 * they stand for. Expected times are computed here in integer milliseconds, apart from
 * the resolver: RFC times are decimal seconds, so "1.276020076001e+09" is 1276020076001 ms.
 */

const NOW = Date.UTC(2026, 10, 21, 4, 0, 0); // the gateway's receive time: "now" of relative times

type Expected = Partial<ResolvedRecord> & { name: string; timeMs: number };

function resolved(pack: unknown): ResolvedRecord[] {
  const result = resolveSenmlPack(pack, NOW);
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  expect(result.refusals).toEqual([]);
  return result.records;
}

function pick(records: ResolvedRecord[]) {
  return records.map(({ name, unit, value, stringValue, booleanValue, dataValue, sum, timeMs }) => ({
    name, timeMs,
    ...(unit === undefined ? {} : { unit }), ...(value === undefined ? {} : { value }),
    ...(stringValue === undefined ? {} : { stringValue }), ...(booleanValue === undefined ? {} : { booleanValue }),
    ...(dataValue === undefined ? {} : { dataValue }), ...(sum === undefined ? {} : { sum }),
  }));
}

const DEV = 'urn:dev:ow:10e2073a01080063';

describe('SenML resolution: the example packs of RFC 8428', () => {
  it('§5.1.1 single datapoint: no time means "now"', () => {
    expect(pick(resolved([{ n: DEV, u: 'Cel', v: 23.1 }]))).toEqual([{ name: DEV, unit: 'Cel', value: 23.1, timeMs: NOW }]);
  });

  it('§5.1.2 multiple datapoints: the base name prefixes each name', () => {
    expect(pick(resolved([{ bn: `${DEV}:`, n: 'voltage', u: 'V', v: 120.1 }, { n: 'current', u: 'A', v: 1.2 }]))).toEqual([
      { name: `${DEV}:voltage`, unit: 'V', value: 120.1, timeMs: NOW },
      { name: `${DEV}:current`, unit: 'A', value: 1.2, timeMs: NOW },
    ]);
  });

  it('§5.1.2 with base time, base unit and relative record times', () => {
    const pack = [
      { bn: 'urn:dev:ow:10e2073a0108006:', bt: 1.276020076001e+09, bu: 'A', bver: 5, n: 'voltage', u: 'V', v: 120.1 },
      { n: 'current', t: -5, v: 1.2 }, { n: 'current', t: -4, v: 1.3 }, { n: 'current', t: -3, v: 1.4 },
      { n: 'current', t: -2, v: 1.5 }, { n: 'current', t: -1, v: 1.6 }, { n: 'current', v: 1.7 },
    ];
    const base = 1_276_020_076_001; // Tue Jun 8 18:01:16.001 UTC 2010, as the RFC says
    expect(new Date(base).toISOString()).toBe('2010-06-08T18:01:16.001Z');
    const name = 'urn:dev:ow:10e2073a0108006:current';
    expect(pick(resolved(pack))).toEqual([
      { name: 'urn:dev:ow:10e2073a0108006:voltage', unit: 'V', value: 120.1, timeMs: base },
      ...[1.2, 1.3, 1.4, 1.5, 1.6].map((value, index) => ({ name, unit: 'A', value, timeMs: base - (5 - index) * 1000 })),
      { name, unit: 'A', value: 1.7, timeMs: base },
    ]);
  });

  // §5.1.3 and the resolved form the RFC gives for it in §5.1.4.
  const multipleMeasurements = [
    { bn: DEV, bt: 1.320067464e+09, bu: '%RH', v: 20 },
    { u: 'lon', v: 24.30621 }, { u: 'lat', v: 60.07965 },
    { t: 60, v: 20.3 }, { u: 'lon', t: 60, v: 24.30622 }, { u: 'lat', t: 60, v: 60.07965 },
    { t: 120, v: 20.7 }, { u: 'lon', t: 120, v: 24.30623 }, { u: 'lat', t: 120, v: 60.07966 },
    { u: '%EL', t: 150, v: 98 },
    { t: 180, v: 21.2 }, { u: 'lon', t: 180, v: 24.30628 }, { u: 'lat', t: 180, v: 60.07967 },
  ];
  const resolvedForm = [
    { n: DEV, u: '%RH', t: 1.320067464e+09, v: 20 }, { n: DEV, u: 'lon', t: 1.320067464e+09, v: 24.30621 },
    { n: DEV, u: 'lat', t: 1.320067464e+09, v: 60.07965 }, { n: DEV, u: '%RH', t: 1.320067524e+09, v: 20.3 },
    { n: DEV, u: 'lon', t: 1.320067524e+09, v: 24.30622 }, { n: DEV, u: 'lat', t: 1.320067524e+09, v: 60.07965 },
    { n: DEV, u: '%RH', t: 1.320067584e+09, v: 20.7 }, { n: DEV, u: 'lon', t: 1.320067584e+09, v: 24.30623 },
    { n: DEV, u: 'lat', t: 1.320067584e+09, v: 60.07966 }, { n: DEV, u: '%EL', t: 1.320067614e+09, v: 98 },
    { n: DEV, u: '%RH', t: 1.320067644e+09, v: 21.2 }, { n: DEV, u: 'lon', t: 1.320067644e+09, v: 24.30628 },
    { n: DEV, u: 'lat', t: 1.320067644e+09, v: 60.07967 },
  ];

  it('§5.1.3 multiple measurements resolve to the records of §5.1.4', () => {
    const expected: Expected[] = resolvedForm.map((record) => ({ name: record.n, unit: record.u, value: record.v, timeMs: record.t * 1000 }));
    expect(pick(resolved(multipleMeasurements))).toEqual(expected);
    // Mon Oct 31 13:24:24 UTC 2011, the RFC's start time.
    expect(new Date(expected[0]!.timeMs).toISOString()).toBe('2011-10-31T13:24:24.000Z');
  });

  it('§5.1.4 a resolved pack resolves to itself', () => {
    expect(pick(resolved(resolvedForm))).toEqual(pick(resolved(multipleMeasurements)));
  });

  it('§5.1.5 multiple data types: number, string, boolean and data values', () => {
    expect(pick(resolved([
      { bn: `${DEV}:`, n: 'temp', u: 'Cel', v: 23.1 }, { n: 'label', vs: 'Machine Room' },
      { n: 'open', vb: false }, { n: 'nfc-reader', vd: 'aGkgCg' },
    ]))).toEqual([
      { name: `${DEV}:temp`, unit: 'Cel', value: 23.1, timeMs: NOW },
      { name: `${DEV}:label`, stringValue: 'Machine Room', timeMs: NOW },
      { name: `${DEV}:open`, booleanValue: false, timeMs: NOW },
      { name: `${DEV}:nfc-reader`, dataValue: 'aGkgCg', timeMs: NOW },
    ]);
  });

  it('§5.1.6 collection of resources: the last record has the base name of the 3rd and the base time of the 1st', () => {
    const base = 1_320_078_429_000; // Mon Oct 31 16:27:09 UTC 2011
    expect(pick(resolved([
      { bn: '2001:db8::2/', bt: 1.320078429e+09, n: 'temperature', u: 'Cel', v: 25.2 },
      { n: 'humidity', u: '%RH', v: 30 },
      { bn: '2001:db8::1/', n: 'temperature', u: 'Cel', v: 12.3 },
      { n: 'humidity', u: '%RH', v: 67 },
    ]))).toEqual([
      { name: '2001:db8::2/temperature', unit: 'Cel', value: 25.2, timeMs: base },
      { name: '2001:db8::2/humidity', unit: '%RH', value: 30, timeMs: base },
      { name: '2001:db8::1/temperature', unit: 'Cel', value: 12.3, timeMs: base },
      { name: '2001:db8::1/humidity', unit: '%RH', value: 67, timeMs: base },
    ]);
  });

  it('§5.1.7 setting an actuator: a record of base fields only is not a record of its own', () => {
    expect(pick(resolved([
      { bn: `${DEV}:` }, { n: 'temp', u: 'Cel', v: 23.1 }, { n: 'heat', u: '/', v: 1 }, { n: 'fan', u: '/', v: 0 },
    ]))).toEqual([
      { name: `${DEV}:temp`, unit: 'Cel', value: 23.1, timeMs: NOW },
      { name: `${DEV}:heat`, unit: '/', value: 1, timeMs: NOW },
      { name: `${DEV}:fan`, unit: '/', value: 0, timeMs: NOW },
    ]);
  });

  it('§4.5.3 lights: times ahead of the base time, base unit "/"', () => {
    const base = 1_320_078_429_000;
    expect(pick(resolved([
      { bt: 1.320078429e+09, bu: '/', n: '2001:db8::3', v: 0.5 }, { n: '2001:db8::4', v: 0.5 },
      { n: '2001:db8::3', t: 0.1, v: 0 }, { n: '2001:db8::4', t: 0.1, v: 0 },
    ]))).toEqual([
      { name: '2001:db8::3', unit: '/', value: 0.5, timeMs: base }, { name: '2001:db8::4', unit: '/', value: 0.5, timeMs: base },
      { name: '2001:db8::3', unit: '/', value: 0, timeMs: base + 100 }, { name: '2001:db8::4', unit: '/', value: 0, timeMs: base + 100 },
    ]);
  });

  it('§4.8 SenSML stream: base unit and base time carry through every record', () => {
    const base = 1_320_067_464_000;
    const values = [21.2, 21.3, 21.4, 21.4, 21.5, 21.5, 21.5, 21.6, 21.7];
    const pack = values.map((v, index) => (index === 0 ? { bn: DEV, bt: 1.320067464e+09, bu: '%RH', v } : { t: index * 10, v }));
    expect(pick(resolved(pack))).toEqual(values.map((value, index) => ({ name: DEV, unit: '%RH', value, timeMs: base + index * 10_000 })));
  });
});

describe('SenML resolution: base value, base sum and the rules around them', () => {
  it('adds base value and base sum exactly on the decimals sent', () => {
    // In binary floating point 1.1 + 0.2 is 1.3000000000000003; the device meant 1.3.
    expect(pick(resolved([{ bn: 'm:', bv: 1.1, bs: 1000.1, n: 'x', v: 0.2, s: 0.2 }, { n: 'y', v: -1.1, s: 0 }]))).toEqual([
      { name: 'm:x', value: 1.3, sum: 1000.3, timeMs: NOW },
      { name: 'm:y', value: 0, sum: 1000.1, timeMs: NOW },
    ]);
  });

  it('reads times below 2**28 as relative to the receive time, at and above it as absolute', () => {
    const [past, edge, absolute] = resolved([{ n: 'a', v: 1, t: -90 }, { n: 'b', v: 1, t: 2 ** 28 - 1 }, { n: 'c', v: 1, t: 2 ** 28 }]);
    expect(past?.timeMs).toBe(NOW - 90_000);
    expect(edge?.timeMs).toBe(NOW + (2 ** 28 - 1) * 1000);
    expect(absolute?.timeMs).toBe(2 ** 28 * 1000);
  });

  it.each([
    [{ v: 1 }, 'not a SenML name'],
    [{ n: ' space', v: 1 }, 'not a SenML name'],
    [{ n: 'x', t: 5 }, 'has no value'],
  ])('refuses the record %j (%s) and keeps the others', (record, message) => {
    const result = resolveSenmlPack([record, { n: 'ok', v: 2 }], NOW);
    expect(result.ok && result.records.map((r) => r.name)).toEqual(['ok']);
    expect(result.ok && result.refusals[0]?.message).toContain(message);
  });

  it.each([
    [{}, 'JSON array'],
    [[], 'no records'],
    [[{ bn: 1, n: 'x', v: 1 }], '"bn" must be a string'],
    [[{ bver: 11, n: 'x', v: 1 }], 'bver 11 is newer'],
    [[{ bver: 5, n: 'x', v: 1 }, { bver: 6, n: 'y', v: 1 }], 'same version'],
    [[{ n: 'x', v: 1, crit_: true }], 'must-understand'],
    [[1], 'not an object'],
  ])('refuses the whole pack %j: %s', (pack, message) => {
    const result = resolveSenmlPack(pack, NOW);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(message);
  });

  it('ignores unknown fields that do not end in "_" (RFC 8428 §4.4)', () => {
    expect(pick(resolved([{ n: 'x', v: 1, vendor: { a: 1 } }]))).toEqual([{ name: 'x', value: 1, timeMs: NOW }]);
  });
});
