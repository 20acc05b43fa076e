import type { Queryable } from './database.js';

/** Issue 7: when each device was last heard from (migration 005), and which ones went silent. */

/**
 * Records that these devices sent readings, in the batch's transaction. Rows are touched
 * in id order so concurrent batches of the same devices wait rather than deadlock.
 */
export async function touchDevices(tx: Queryable, latest: ReadonlyMap<string, Date>): Promise<void> {
  if (latest.size === 0) return;
  const ids = [...latest.keys()].sort();
  await tx.query(
    `INSERT INTO device_health (device_id, last_seen_at, last_source_time)
     SELECT k.id, now(), k.t FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS k(id, t, n)
     WHERE EXISTS (SELECT 1 FROM devices WHERE devices.id = k.id)
     ORDER BY n
     ON CONFLICT (device_id) DO UPDATE SET last_seen_at = now(),
       last_source_time = GREATEST(device_health.last_source_time, EXCLUDED.last_source_time)`,
    [ids, ids.map((id) => latest.get(id)!.toISOString())],
  );
}

export interface SilentDevice {
  deviceId: string;
  domain: string;
  district: string | undefined;
  /** When it was last heard from; undefined for a session death (Sparkplug NDEATH/DDEATH) of a device never seen. */
  lastSeenAt: Date | undefined;
}

export interface OfflinePolicy {
  /** Used for devices without their own expected interval and whose profile has none. */
  defaultExpectedIntervalS: number;
  /** Offline after expected interval × factor of silence. */
  factor: number;
  /** Expected intervals of device profiles (DEVICE_PROFILES_FILE `expectedIntervalS`), by profile name. @defaultValue none */
  profileIntervalsS?: ReadonlyMap<string, number>;
}

/** The device's own interval, else its profile's, else the default ($1): bind parameters $1, $3, $4. */
const EXPECTED_INTERVAL_S = 'COALESCE(d.expected_interval_s, p.interval_s, $1::integer)';
const PROFILE_INTERVALS = 'LEFT JOIN unnest($3::text[], $4::integer[]) AS p(name, interval_s) ON p.name = d.profile';

function policyParameters(policy: OfflinePolicy): unknown[] {
  const profiles = [...(policy.profileIntervalsS ?? new Map<string, number>())];
  return [policy.defaultExpectedIntervalS, policy.factor, profiles.map(([name]) => name), profiles.map(([, seconds]) => seconds)];
}

/**
 * Devices offline now: silent for longer than their expected interval × the factor, or
 * marked offline by their session (a Sparkplug DEATH or an MQTT will on `sensors/{id}/status`
 * sets `devices.online = false`).
 * Disabled devices and devices never heard from are not watched.
 */
export async function findOfflineDevices(db: Queryable, policy: OfflinePolicy): Promise<SilentDevice[]> {
  const result = await db.query<{ id: string; domain: string; district: string | null; last_seen_at: Date | null }>(
    `SELECT d.id, d.domain, d.district, h.last_seen_at
     FROM devices d LEFT JOIN device_health h ON h.device_id = d.id ${PROFILE_INTERVALS}
     WHERE NOT d.disabled AND (
       d.online IS FALSE
       OR h.last_seen_at < now() - make_interval(secs => ${EXPECTED_INTERVAL_S} * $2::float8))
     ORDER BY d.id`,
    policyParameters(policy),
  );
  return result.rows.map((row) => ({ deviceId: row.id, domain: row.domain, district: row.district ?? undefined, lastSeenAt: row.last_seen_at ?? undefined }));
}

/**
 * Devices still sending (heard from within their offline window) whose source timestamps
 * stopped advancing: the newest source time is older than the window before the last
 * batch — a stuck clock or a device replaying a buffer. Also flags a clock that lags by
 * more than the window.
 */
export async function findStaleClockDevices(db: Queryable, policy: OfflinePolicy): Promise<SilentDevice[]> {
  const result = await db.query<{ id: string; domain: string; district: string | null; last_seen_at: Date }>(
    `SELECT d.id, d.domain, d.district, h.last_seen_at
     FROM devices d JOIN device_health h ON h.device_id = d.id ${PROFILE_INTERVALS}
     CROSS JOIN LATERAL (SELECT make_interval(secs => ${EXPECTED_INTERVAL_S} * $2::float8) AS window) w
     WHERE NOT d.disabled AND d.online IS NOT FALSE
       AND h.last_seen_at >= now() - w.window
       AND h.last_source_time < h.last_seen_at - w.window
     ORDER BY d.id`,
    policyParameters(policy),
  );
  return result.rows.map((row) => ({ deviceId: row.id, domain: row.domain, district: row.district ?? undefined, lastSeenAt: row.last_seen_at }));
}
