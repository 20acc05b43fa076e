import { describe, expect, it } from 'vitest';
import { createClientIdPolicy } from './client-id-policy.js';
import { createConnectionLimiter } from './connection-limiter.js';

describe('connection limiter', () => {
  it('counts open connections per address and frees a place when one closes', () => {
    const limiter = createConnectionLimiter({ maxConnectionsPerAddress: 2 });
    expect([limiter.opened('10.0.0.1'), limiter.opened('10.0.0.1')]).toEqual([undefined, undefined]);
    expect(limiter.opened('10.0.0.1')).toMatch(/the limit is 2/);
    expect(limiter.opened('10.0.0.2')).toBeUndefined(); // another address has its own budget
    limiter.closed('10.0.0.1');
    expect(limiter.opened('10.0.0.1')).toBeUndefined();
  });

  it('backs off an address after too many failed logins, until its window ends', () => {
    let nowMs = 0;
    const limiter = createConnectionLimiter({ maxAuthFailures: 3, authFailureWindowMs: 60_000 }, () => nowMs);
    for (let failure = 0; failure < 2; failure++) limiter.authFailed('10.0.0.1');
    expect(limiter.backingOff('10.0.0.1')).toBeUndefined();
    limiter.authFailed('10.0.0.1');
    expect(limiter.backingOff('10.0.0.1')).toMatch(/3 failed logins from 10\.0\.0\.1; logins from it are refused for 60 s more/);
    expect(limiter.backingOff('10.0.0.2')).toBeUndefined();
    nowMs = 59_000;
    expect(limiter.backingOff('10.0.0.1')).toMatch(/for 1 s more/);
    nowMs = 60_000;
    expect(limiter.backingOff('10.0.0.1')).toBeUndefined();
  });

  it('limits nothing when the limits are 0', () => {
    const limiter = createConnectionLimiter({ maxConnectionsPerAddress: 0, maxAuthFailures: 0 });
    for (let i = 0; i < 100; i++) {
      expect(limiter.opened('10.0.0.1')).toBeUndefined();
      limiter.authFailed('10.0.0.1');
    }
    expect(limiter.backingOff('10.0.0.1')).toBeUndefined();
  });
});

describe('client id policy', () => {
  const [a1, a2, b1] = [{}, {}, {}];

  it("keeps a device's own ids its own and refuses ids another device holds", () => {
    const policy = createClientIdPolicy();
    expect(policy.claim('st-1', 'st-1', a1)).toEqual({ ok: true });
    expect(policy.claim('st-1', 'st-10', b1)).toEqual({ ok: false, holder: 'st-1' });
    expect(policy.claim('st-1:probe', 'st-1', a2)).toEqual({ ok: true });
    expect(policy.claim('st-1:probe', 'st-10', b1)).toEqual({ ok: false, holder: 'st-1' });
    expect(policy.claim('st-10', 'st-10', b1)).toEqual({ ok: true }); // "st-10" is not one of st-1's ids
  });

  it('frees an id on a clean disconnect, keeps it bound while a session is kept, and ignores the close of a connection taken over', () => {
    const policy = createClientIdPolicy();
    policy.claim('console', 'st-1', a1);
    policy.claim('console', 'st-1', a2); // the same device reconnects
    policy.released('console', a1, false); // the old connection's close comes later: a2 keeps the id
    expect(policy.claim('console', 'st-2', b1)).toEqual({ ok: false, holder: 'st-1' });
    policy.released('console', a2, true); // ended without clean session: the session holds it
    expect(policy.claim('console', 'st-2', b1)).toEqual({ ok: false, holder: 'st-1' });
    policy.claim('console', 'st-1', a1);
    policy.released('console', a1, false);
    expect(policy.size).toBe(0);
    expect(policy.claim('console', 'st-2', b1)).toEqual({ ok: true });
  });
});
