import { describe, expect, it } from 'vitest';
import { createLogThrottle } from './log-throttle.js';

describe('log throttle', () => {
  it('logs the first events of each interval per key, then reports how many it left out', () => {
    let nowMs = 0;
    const admit = createLogThrottle({ intervalMs: 1000, maxPerInterval: 3 }, () => nowMs);
    const first = Array.from({ length: 10 }, () => admit('bad_credentials'));
    expect(first.map((decision) => decision.log)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    // Another key has its own budget.
    expect(admit('malformed_packet')).toEqual({ log: true, suppressed: 0 });
    nowMs = 1000;
    expect(admit('bad_credentials')).toEqual({ log: true, suppressed: 7 });
    expect(admit('bad_credentials')).toEqual({ log: true, suppressed: 0 });
  });
});
