/**
 * Keeps a flood of one kind of event from flooding the log: per key (e.g. a refusal
 * reason), the first `maxPerInterval` events of each interval are logged and the rest
 * only counted; the next logged event of that key says how many were left out.
 * Metrics still count every event.
 */
export interface LogThrottleOptions {
  /** @defaultValue 10000 */
  intervalMs?: number;
  /** @defaultValue 20 */
  maxPerInterval?: number;
}

export type LogDecision = { log: false } | { log: true; suppressed: number };

export function createLogThrottle(options: LogThrottleOptions = {}, now: () => number = Date.now): (key: string) => LogDecision {
  const intervalMs = options.intervalMs ?? 10_000;
  const maxPerInterval = options.maxPerInterval ?? 20;
  const windows = new Map<string, { startedAtMs: number; logged: number; suppressed: number }>();
  return (key) => {
    let window = windows.get(key);
    if (window === undefined || now() - window.startedAtMs >= intervalMs) {
      const suppressed = window?.suppressed ?? 0;
      window = { startedAtMs: now(), logged: 1, suppressed: 0 };
      windows.set(key, window);
      return { log: true, suppressed };
    }
    if (window.logged < maxPerInterval) {
      window.logged += 1;
      return { log: true, suppressed: 0 };
    }
    window.suppressed += 1;
    return { log: false };
  };
}
