import type { Database, Queryable } from '../../storage/database.js';
import { clearActiveAlert, openAlert } from '../../storage/alerts-store.js';
import { findOfflineDevices, findStaleClockDevices, type OfflinePolicy, type SilentDevice } from '../../storage/device-health-store.js';
import type { AlertChanges } from './evaluate-batch.js';

/** The rule id of offline alerts: a built-in rule on the device as a whole (metric ''). */
export const OFFLINE_RULE_ID = 'device-offline';
/** The rule id of alerts for devices whose source timestamps stopped advancing. */
export const STALE_CLOCK_RULE_ID = 'device-timestamps-stale';
const DEVICE_SERIES = '';

// Any constant works; it only has to be the same in every worker process.
const OFFLINE_CHECK_LOCK_KEY = 7_311_207;

export interface OfflineMonitorOptions extends OfflinePolicy {
  /** How often the check runs, in the worker role. @defaultValue 30000 */
  checkIntervalMs: number;
}

export interface OfflineMonitorDeps {
  db: Database;
  /** Told what a check opened or cleared, after it committed. */
  changed?: (changes: AlertChanges) => void;
  /** A check failed; the next one runs as usual. */
  failed?: (error: unknown) => void;
}

export interface OfflineMonitor {
  /** One check now; `undefined` when another process holds the check this time. */
  runNow(): Promise<AlertChanges | undefined>;
  /**
   * A device's connection state changed (a will, a Sparkplug death): check soon rather
   * than at the next interval, reporting through `changed` like the periodic check.
   * Requests during a check run one more check after it, which sees their commits.
   */
  requestCheck(): void;
  close(): Promise<void>;
}

async function activeAlerts(tx: Queryable, ruleId: string): Promise<Set<string>> {
  const result = await tx.query<{ device_id: string }>(
    `SELECT device_id FROM alerts WHERE rule_id = $1 AND metric = $2 AND state <> 'cleared'`,
    [ruleId, DEVICE_SERIES],
  );
  return new Set(result.rows.map((row) => row.device_id));
}

/** Devices whose alert an operator cleared by hand since they were last heard from: not reopened. */
async function dismissed(tx: Queryable, ruleId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await tx.query<{ device_id: string }>(
    `SELECT DISTINCT a.device_id FROM alerts a LEFT JOIN device_health h ON h.device_id = a.device_id
     WHERE a.rule_id = $1 AND a.metric = $2 AND a.device_id = ANY($3::text[]) AND a.state = 'cleared'
       AND a.cleared_by <> 'condition' AND (h.last_seen_at IS NULL OR a.cleared_at > h.last_seen_at)`,
    [ruleId, DEVICE_SERIES, ids],
  );
  return new Set(result.rows.map((row) => row.device_id));
}

/** Opens an alert of `ruleId` for each device found that has none, clears those of devices no longer found. */
async function reconcile(tx: Queryable, ruleId: string, found: readonly SilentDevice[], now: Date, changes: AlertChanges): Promise<void> {
  const active = await activeAlerts(tx, ruleId);
  const silenced = await dismissed(tx, ruleId, found.filter((device) => !active.has(device.deviceId)).map((device) => device.deviceId));
  for (const device of found) {
    if (active.has(device.deviceId) || silenced.has(device.deviceId)) continue;
    const silentS = device.lastSeenAt === undefined ? 0 : Math.round((now.getTime() - device.lastSeenAt.getTime()) / 1000);
    const opened = await openAlert(tx, {
      ruleId, deviceId: device.deviceId, metric: DEVICE_SERIES, severity: 'warning',
      domain: device.domain, district: device.district, openedAt: now, openValue: silentS,
    });
    if (opened !== undefined) changes.opened.push(opened);
  }
  const still = new Set(found.map((device) => device.deviceId));
  for (const deviceId of [...active].sort()) {
    if (still.has(deviceId)) continue;
    const cleared = await clearActiveAlert(tx, { ruleId, deviceId, metric: DEVICE_SERIES }, now, undefined);
    if (cleared !== undefined) changes.cleared.push(cleared);
  }
}

/**
 * One device-health check: opens an alert for every device that went silent (or whose
 * session died) and for every device whose source timestamps stopped advancing, and
 * clears them when that is over. Under a transaction-scoped advisory lock, so with
 * several worker processes one of them does each check.
 */
export async function checkOffline(db: Database, policy: OfflinePolicy): Promise<AlertChanges | undefined> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [OFFLINE_CHECK_LOCK_KEY]);
    if (lock.rows[0]?.got !== true) return undefined;
    const changes: AlertChanges = { opened: [], cleared: [] };
    const now = new Date();
    await reconcile(tx, OFFLINE_RULE_ID, await findOfflineDevices(tx, policy), now, changes);
    await reconcile(tx, STALE_CLOCK_RULE_ID, await findStaleClockDevices(tx, policy), now, changes);
    return changes;
  });
}

export function createOfflineMonitor(options: OfflineMonitorOptions, deps: OfflineMonitorDeps): OfflineMonitor {
  let running: Promise<AlertChanges | undefined> | undefined;
  const runNow = () => (running ??= checkOffline(deps.db, options).finally(() => { running = undefined; }));
  let closed = false;
  const checkAndReport = () =>
    runNow().then(
      (changes) => { if (changes !== undefined && changes.opened.length + changes.cleared.length > 0) deps.changed?.(changes); },
      (error: unknown) => deps.failed?.(error),
    );
  const timer = setInterval(() => void checkAndReport(), options.checkIntervalMs);
  timer.unref();
  let again: Promise<void> | undefined;
  const requestCheck = () => {
    if (closed || again !== undefined) return;
    // The running check may have read before the change committed: one more after it.
    again = (running ?? Promise.resolve()).catch(() => undefined).then(() => {
      again = undefined;
      if (!closed) return checkAndReport();
    });
  };
  let closing: Promise<void> | undefined;
  return {
    runNow,
    requestCheck,
    close: () => (closing ??= (async () => {
      closed = true;
      clearInterval(timer);
      await again;
      await running?.catch(() => undefined);
    })()),
  };
}
