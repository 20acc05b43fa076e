import { describe, expect, it } from 'vitest';
import { finaliseMetrics } from './device-model.js';
import { activeEvents, type EventSchedule } from './events.js';
import { deriveSeed, mulberry32, smoothNoise } from './noise.js';

describe('finaliseMetrics', () => {
  it('rounds to the resolution without float tails and clamps to the catalogue range', () => {
    expect(finaliseMetrics({ ph: 7.123456, humidity: 104.2, co: 0.1 + 0.2, tilt: -0.0004 }, { ph: 0.01, humidity: 0.1, co: 0.1, tilt: 0.001 }))
      .toEqual({ ph: 7.12, humidity: 100, co: 0.3, tilt: 0 });
    expect(Object.is(finaliseMetrics({ tilt: -0.0004 }, { tilt: 0.001 }).tilt, -0)).toBe(false);
  });

  it('throws on what can only be a model bug', () => {
    expect(() => finaliseMetrics({ pm25: 1 }, { pm25: 1 })).toThrow(/"pm25", which is not in the catalogue/);
    expect(() => finaliseMetrics({ ph: 7 }, {})).toThrow(/"ph" without a resolution/);
    expect(() => finaliseMetrics({ ph: Number.NaN }, { ph: 0.01 })).toThrow(/non-finite value for "ph"/);
  });
});

describe('deterministic randomness', () => {
  it('derives seeds from labels and reproduces PRNG sequences', () => {
    expect(deriveSeed('fleet', 'dev-1')).toBe(deriveSeed('fleet', 'dev-1'));
    expect(deriveSeed('fleet', 'dev-1')).not.toBe(deriveSeed('fleet', 'dev-2'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed('1', 'a'));
    const a = mulberry32(123);
    const b = mulberry32(123);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(values.reduce((sum, v) => sum + v, 0) / values.length).toBeCloseTo(0.5, 1);
  });

  it('makes smooth noise continuous: neighbouring instants differ little', () => {
    const seed = deriveSeed('s');
    for (let t = 0; t < 1e7; t += 12_345) {
      expect(Math.abs(smoothNoise(seed, t + 1000, 3_600_000) - smoothNoise(seed, t, 3_600_000))).toBeLessThan(0.01);
    }
  });

  it('finds an event from any instant inside it, including past the end of its slot', () => {
    const schedule: EventSchedule = { slotMs: 1000, probability: 0.5, minDurationMs: 1500, maxDurationMs: 2500 };
    const seed = deriveSeed('events');
    let spilled = 0;
    for (let t = 0; t < 100_000; t += 100) {
      for (const event of activeEvents(seed, schedule, t)) {
        expect(t).toBeGreaterThanOrEqual(event.startMs);
        expect(t).toBeLessThan(event.startMs + event.durationMs);
        if (Math.floor(event.startMs / 1000) < Math.floor(t / 1000)) spilled += 1;
      }
    }
    expect(spilled).toBeGreaterThan(0);
  });
});
