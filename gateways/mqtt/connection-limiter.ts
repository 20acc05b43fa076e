/**
 * Per-address limits that stop one address from exhausting the broker
 * (docs/security.md, "Connection floods"):
 *
 * - open connections: a connection above `maxConnectionsPerAddress` is closed as it is
 *   accepted, before any MQTT is parsed;
 * - failed logins: after `maxAuthFailures` failed CONNECTs within `authFailureWindowMs`,
 *   the address's further CONNECTs are refused without checking the password until
 *   the window ends. Every check costs a scrypt (~50 ms of CPU) on purpose, so without
 *   this a flood of bad logins from one address would keep the broker's CPU busy.
 *
 * Devices already connected are never touched. Addresses are keys: behind a NAT many
 * devices share one, so the defaults are generous.
 */

export interface ConnectionLimits {
  /** Open connections per address; 0 turns the limit off. @defaultValue 0 */
  maxConnectionsPerAddress?: number;
  /** Failed logins per address within `authFailureWindowMs` before back-off; 0 turns it off. @defaultValue 0 */
  maxAuthFailures?: number;
  /** @defaultValue 60000 */
  authFailureWindowMs?: number;
}

export interface ConnectionLimiter {
  /** A connection from `address` was accepted; `undefined` when it is within the limit, else why not. */
  opened(address: string): string | undefined;
  /** A connection counted by `opened` ended. */
  closed(address: string): void;
  /** Why logins from `address` are refused right now, or `undefined`. */
  backingOff(address: string): string | undefined;
  authFailed(address: string): void;
}

/** Bound on remembered addresses; expired windows are pruned when it is reached. */
const MAX_TRACKED_ADDRESSES = 100_000;

export function createConnectionLimiter(limits: ConnectionLimits = {}, now: () => number = Date.now): ConnectionLimiter {
  const maxOpen = limits.maxConnectionsPerAddress ?? 0;
  const maxFailures = limits.maxAuthFailures ?? 0;
  const windowMs = limits.authFailureWindowMs ?? 60_000;
  const open = new Map<string, number>();
  const failures = new Map<string, { windowStartMs: number; count: number }>();

  function failuresOf(address: string): { windowStartMs: number; count: number } | undefined {
    const entry = failures.get(address);
    if (entry !== undefined && now() - entry.windowStartMs >= windowMs) {
      failures.delete(address);
      return undefined;
    }
    return entry;
  }

  function prune(): void {
    for (const address of failures.keys()) failuresOf(address);
  }

  return {
    opened(address) {
      const count = (open.get(address) ?? 0) + 1;
      if (maxOpen > 0 && count > maxOpen) return `${address} has ${maxOpen} connections open; the limit is ${maxOpen} (MQTT_MAX_CONNECTIONS_PER_ADDRESS)`;
      open.set(address, count);
      return undefined;
    },
    closed(address) {
      const count = (open.get(address) ?? 0) - 1;
      if (count > 0) open.set(address, count);
      else open.delete(address);
    },
    backingOff(address) {
      const entry = maxFailures > 0 ? failuresOf(address) : undefined;
      if (entry === undefined || entry.count < maxFailures) return undefined;
      const retryInS = Math.ceil((entry.windowStartMs + windowMs - now()) / 1000);
      return `${entry.count} failed logins from ${address}; logins from it are refused for ${retryInS} s more (MQTT_MAX_AUTH_FAILURES_PER_MINUTE)`;
    },
    authFailed(address) {
      if (maxFailures === 0) return;
      const entry = failuresOf(address);
      if (entry !== undefined) {
        entry.count += 1;
        return;
      }
      if (failures.size >= MAX_TRACKED_ADDRESSES) prune();
      // Still full of live windows: forget the oldest address rather than grow without bound.
      if (failures.size >= MAX_TRACKED_ADDRESSES) failures.delete(failures.keys().next().value as string);
      failures.set(address, { windowStartMs: now(), count: 1 });
    },
  };
}
