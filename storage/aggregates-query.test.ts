import { describe, expect, it } from 'vitest';
import { chooseAggregateSource } from './aggregates-query.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('chooseAggregateSource', () => {
  it.each([
    [HOUR, 0, 'rollup_1h'],
    [24 * HOUR, 0, 'rollup_1h'],
    [7 * 24 * HOUR, 0, 'rollup_1h'],
    [24 * HOUR, -8 * HOUR, 'rollup_1h'],
    [24 * HOUR, -5.5 * HOUR, 'rollup_1m'],
    [90 * MINUTE, 0, 'rollup_1m'],
    [MINUTE, 0, 'rollup_1m'],
    [7 * MINUTE, 0, 'rollup_1m'],
    [HOUR, 30_000, 'raw'],
    [90_000, 0, 'raw'],
    [30_000, 0, 'raw'],
    [1, 0, 'raw'],
  ] as const)('a %i ms bucket with origin %i ms reads %s', (bucketMs, originMs, source) => {
    expect(chooseAggregateSource(bucketMs, originMs)).toBe(source);
  });
});
