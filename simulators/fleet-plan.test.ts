import { describe, expect, it } from 'vitest';
import { isValidDeviceId } from '../contracts/topics.js';
import { planFleet } from './fleet-plan.js';

describe('planFleet', () => {
  it('spreads a count round-robin over the domains and rotates device types within each', () => {
    const plan = planFleet(10, 'sim');
    expect(plan.map((device) => device.id)).toEqual([
      'sim-env-0001', 'sim-env-0002', 'sim-env-0003',
      'sim-water-0001', 'sim-water-0002', 'sim-water-0003',
      'sim-grid-0001', 'sim-grid-0002',
      'sim-safety-0001', 'sim-safety-0002',
    ]);
    expect(plan.filter((device) => device.domain === 'water').map((device) => device.kind)).toEqual([
      'supply-monitor', 'hydrology-station', 'supply-monitor',
    ]);
    expect(plan[0]).toEqual({
      id: 'sim-env-0001', domain: 'environment', kind: 'air-quality-station',
      name: 'Air-quality station sim-env-0001', topic: 'sensors/sim-env-0001/telemetry',
    });
    expect(plan.every((device) => isValidDeviceId(device.id))).toBe(true);
  });

  it('takes explicit per-domain counts', () => {
    const plan = planFleet({ safety: 3, grid: 0 }, 'x');
    expect(plan.map((device) => `${device.id}:${device.kind}`)).toEqual([
      'x-safety-0001:gas-monitor', 'x-safety-0002:manhole-monitor', 'x-safety-0003:bridge-monitor',
    ]);
  });

  it('refuses bad sizes and prefixes with a message saying why', () => {
    expect(() => planFleet(2.5, 'sim')).toThrow(/devices must be a whole number/);
    expect(() => planFleet({ air: 2 } as never, 'sim')).toThrow(/unknown domain "air"/);
    expect(() => planFleet({ water: 10_000 }, 'sim')).toThrow(/at most 9999 per domain/);
    expect(() => planFleet(1, 'a'.repeat(60))).toThrow(/at most 64 characters/);
    expect(() => planFleet(1, '-lead')).toThrow(/start with a letter or digit/);
  });
});
