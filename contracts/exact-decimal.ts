/**
 * Exact arithmetic for unit conversions. A device that sends 1.1 bar means the decimal
 * 1.1, and 1.1 × 100 in binary floating point is 110.00000000000001 kPa; converting the
 * decimal exactly and rounding once gives 110. Values are taken as the shortest decimal
 * that round-trips their float64 (what JSON text or a protobuf float prints as), factors
 * and offsets as exact rationals ("1000", "5/9", "-273.15", "46.0055/24.45").
 */

export interface Rational {
  readonly n: bigint;
  /** Always positive. */
  readonly d: bigint;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;
/** Digits kept when rounding back to float64: far beyond its 17, so rounding happens once. */
const SIGNIFICANT_DIGITS = 30;
const MAX_EXPONENT = 400;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function rational(n: bigint, d: bigint): Rational {
  const sign = d < 0n ? -1n : 1n;
  const divisor = gcd(n, d * sign) || 1n;
  return { n: (sign * n) / divisor, d: (sign * d) / divisor };
}

function parseDecimal(text: string): Rational | undefined {
  const match = DECIMAL.exec(text.trim());
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText) - fraction.length;
  if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
  const digits = BigInt(`${sign}${whole}${fraction}`);
  return exponent >= 0 ? rational(digits * 10n ** BigInt(exponent), 1n) : rational(digits, 10n ** BigInt(-exponent));
}

/** "1000", "0.001", "1e-3", "5/9", "-160/9", "46.0055/24.45"; `undefined` when it is none of these. */
export function parseRational(text: string): Rational | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const numerator = parseDecimal(parts[0] ?? '');
  const denominator = parts.length === 2 ? parseDecimal(parts[1] ?? '') : { n: 1n, d: 1n };
  if (numerator === undefined || denominator === undefined || denominator.n === 0n) return undefined;
  return rational(numerator.n * denominator.d, numerator.d * denominator.n);
}

/** The decimal a finite float64 prints as (JavaScript's shortest round-trip form). */
export function rationalOfNumber(value: number): Rational {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not finite`);
  return parseDecimal(String(value)) as Rational;
}

export function addRational(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d + b.n * a.d, a.d * b.d);
}

export function multiplyRational(a: Rational, b: Rational): Rational {
  return rational(a.n * b.n, a.d * b.d);
}

export function isOne(r: Rational): boolean {
  return r.n === 1n && r.d === 1n;
}

export function isZero(r: Rational): boolean {
  return r.n === 0n;
}

/** The float64 nearest to `r` (rounded once from 30 significant digits). */
export function rationalToNumber(r: Rational): number {
  if (r.n === 0n) return 0;
  const negative = r.n < 0n;
  const n = negative ? -r.n : r.n;
  // Scale so the integer quotient has at least SIGNIFICANT_DIGITS digits.
  const scale = Math.max(0, SIGNIFICANT_DIGITS - (n.toString().length - r.d.toString().length));
  const quotient = (n * 10n ** BigInt(scale)) / r.d;
  return Number(`${negative ? '-' : ''}${quotient}e-${scale}`);
}

/** `(value + offset) × factor`, exactly on the decimal value, rounded once. */
export function convertExactly(value: number, factor: Rational, offset: Rational): number {
  if (isOne(factor) && isZero(offset)) return value;
  return rationalToNumber(multiplyRational(addRational(rationalOfNumber(value), offset), factor));
}

export function formatRational(r: Rational): string {
  return r.d === 1n ? r.n.toString() : `${r.n}/${r.d}`;
}
