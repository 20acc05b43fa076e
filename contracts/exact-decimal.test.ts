import { describe, expect, it } from 'vitest';
import { convertExactly, formatRational, parseRational, rationalOfNumber, rationalToNumber } from './exact-decimal.js';

const r = (text: string) => {
  const value = parseRational(text);
  if (value === undefined) throw new Error(`not a rational: ${text}`);
  return value;
};

describe('exact decimals for unit conversion', () => {
  it.each([
    ['1000', '1000'], ['0.001', '1/1000'], ['1e-3', '1/1000'], ['1E3', '1000'], ['5/9', '5/9'], ['-160/9', '-160/9'],
    ['10/36', '5/18'], ['46.0055/24.45', '92011/48900'], ['-273.15', '-5463/20'], ['+2.50', '5/2'], ['3/-4', '-3/4'],
  ])('reads %s as %s', (text, expected) => {
    expect(formatRational(r(text))).toBe(expected);
  });

  it.each(['', 'abc', '1/0', '1/2/3', '0x10', '1e999', 'NaN', '--1', '1,5'])('refuses %j', (text) => {
    expect(parseRational(text)).toBeUndefined();
  });

  it('takes a float64 as the shortest decimal it prints as', () => {
    expect(formatRational(rationalOfNumber(0.1))).toBe('1/10');
    expect(formatRational(rationalOfNumber(1.5e-7))).toBe('3/20000000');
    expect(formatRational(rationalOfNumber(-0))).toBe('0');
    expect(() => rationalOfNumber(Number.NaN)).toThrow();
  });

  it('rounds a rational to the nearest float64', () => {
    expect(rationalToNumber(r('1/3'))).toBe(1 / 3);
    expect(rationalToNumber(r('2/3'))).toBe(2 / 3);
    expect(rationalToNumber(r('-1/7'))).toBe(-1 / 7);
    expect(rationalToNumber(r('12345678901234567890123/1000'))).toBe(Number('12345678901234567890.123'));
    expect(rationalToNumber(r('1e-300'))).toBe(1e-300);
  });

  it('converts where binary floating point would not be exact', () => {
    // The float products, for contrast: the conversion must not reproduce them.
    expect([1.1 * 100, 4.35 * 100, 0.57 * 100]).toEqual([110.00000000000001, 434.99999999999994, 56.99999999999999]);
    expect(convertExactly(1.1, r('100'), r('0'))).toBe(110);
    expect(convertExactly(4.35, r('100'), r('0'))).toBe(435);
    expect(convertExactly(0.57, r('100'), r('0'))).toBe(57);
    expect(convertExactly(98.6, r('5/9'), r('-32'))).toBe(37);
    expect(convertExactly(-459.67, r('5/9'), r('-32'))).toBe(-273.15);
  });

  it('leaves a value untouched by the identity conversion, negative zero included', () => {
    expect(Object.is(convertExactly(-0, r('1'), r('0')), -0)).toBe(true);
    expect(convertExactly(0.30000000000000004, r('1'), r('0'))).toBe(0.30000000000000004);
  });
});
