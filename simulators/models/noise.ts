/**
 * Deterministic randomness for the signal models.
 *
 * Every random quantity is a pure function of (seed, device, time), never of call order,
 * so a device sampled at irregular instants, restarted, or sampled by two processes
 * reports the same curve; that is what makes a simulator run reproducible and lets a
 * test compare two runs value for value.
 */

const TWO_POW_32 = 0x1_0000_0000;

/** Finaliser of MurmurHash3: spreads every input bit over every output bit. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(text: string): number {
  // FNV-1a over UTF-16 code units; device ids are ASCII, so this is byte-exact for them.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** Combines a 32-bit hash with an integer that may exceed 32 bits (epoch seconds, slot numbers). */
function combine(hash: number, value: number): number {
  const integer = Math.floor(value);
  const low = integer >>> 0;
  const high = Math.floor(integer / TWO_POW_32) >>> 0;
  return mix32(mix32(hash ^ low) + Math.imul(high ^ 0x9e3779b9, 0x27d4eb2d));
}

/** A 32-bit seed derived from a user seed and any number of labels (device id, metric, purpose). */
export function deriveSeed(seed: number | string, ...labels: readonly (string | number)[]): number {
  let h = typeof seed === 'number' ? combine(0x6a09e667, seed) : hashString(seed);
  for (const label of labels) h = typeof label === 'number' ? combine(h, label) : mix32(h ^ hashString(label));
  return h;
}

/**
 * mulberry32: a small, fast, well-distributed 32-bit PRNG. Used for per-device constants
 * (site characteristics) drawn once, in a fixed order, when a model is created.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
}

/** Uniform in [0, 1) for integer `n` under `seed`. */
export function uniformAt(seed: number, n: number): number {
  return combine(seed, n) / TWO_POW_32;
}

/** Standard normal for integer `n` under `seed` (Box–Muller on two independent uniforms). */
export function gaussianAt(seed: number, n: number): number {
  const u1 = Math.max(uniformAt(seed, n), 1e-12);
  const u2 = uniformAt(seed ^ 0x5bd1e995, n);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Smooth noise in [-1, 1]: random values at knots `periodMs` apart, eased between them.
 * Slow processes (haze episodes, weather fronts, demand drift) use long periods.
 */
export function smoothNoise(seed: number, atMs: number, periodMs: number): number {
  const x = atMs / periodMs;
  const knot = Math.floor(x);
  const f = x - knot;
  const eased = f * f * (3 - 2 * f);
  const a = uniformAt(seed, knot) * 2 - 1;
  const b = uniformAt(seed, knot + 1) * 2 - 1;
  return a + (b - a) * eased;
}

/**
 * Several octaves of {@link smoothNoise}, normalised to [-1, 1]: large slow swings with
 * smaller faster wiggles on top, which is how weather-driven series look.
 */
export function fractalNoise(seed: number, atMs: number, periodMs: number, octaves = 3): number {
  let sum = 0;
  let norm = 0;
  let amplitude = 1;
  let period = periodMs;
  for (let octave = 0; octave < octaves; octave += 1) {
    sum += amplitude * smoothNoise(seed + octave * 0x9e37, atMs, period);
    norm += amplitude;
    amplitude /= 2;
    period /= 2;
  }
  return sum / norm;
}

/**
 * Measurement noise: one standard normal per device, metric and second. Two samples in the
 * same second read the same value, as a sensor with a 1 s update rate would.
 */
export function sensorNoise(seed: number, atMs: number): number {
  return gaussianAt(seed, Math.floor(atMs / 1000));
}

/** A uniform draw in [min, max) from a PRNG. */
export function between(random: () => number, min: number, max: number): number {
  return min + (max - min) * random();
}
