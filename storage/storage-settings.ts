import type { Queryable } from './database.js';

export { ROLLUP_CHUNK_FACTOR } from './migrations/rollup-columns.js';

/**
 * How the readings store keeps its data: chunking, retention, compression and how
 * often maintenance runs. Parsed once from the configuration and applied at start by
 * {@link createStorageMaintenance}; the database keeps a copy in `storage_settings`
 * (plain PostgreSQL's partition functions read the chunk interval from there).
 */
export interface StorageSettings {
  /** Width of one raw chunk (TimescaleDB) or partition (plain PostgreSQL); rollups use ten times it. @defaultValue 24 */
  chunkIntervalHours: number;
  /** Raw readings older than this are dropped, whole chunks at a time; 0 keeps them forever. @defaultValue 365 */
  rawRetentionDays: number;
  /** 1-minute rollups older than this are dropped; 0 keeps them forever. @defaultValue 730 */
  rollup1mRetentionDays: number;
  /** 1-hour rollups older than this are dropped; 0 keeps them forever. @defaultValue 0 */
  rollup1hRetentionDays: number;
  /** Raw chunks older than this are compressed (TimescaleDB only); 0 never compresses. @defaultValue 7 */
  compressAfterDays: number;
  /** How often the maintenance loop runs, and how often rollups are refreshed. @defaultValue 60000 */
  maintenanceIntervalMs: number;
}

export const DEFAULT_STORAGE_SETTINGS: Readonly<StorageSettings> = Object.freeze({
  chunkIntervalHours: 24,
  rawRetentionDays: 365,
  rollup1mRetentionDays: 730,
  rollup1hRetentionDays: 0,
  compressAfterDays: 7,
  maintenanceIntervalMs: 60_000,
});

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * A continuous aggregate refreshed over a window that reaches raw chunks already dropped
 * deletes the rollups of that window, so refreshes stop this far short of the raw
 * retention horizon (one day: more than any bucket and any gap between the two jobs).
 */
export const REFRESH_RETENTION_MARGIN_DAYS = 1;

/** A PostgreSQL interval literal for a whole number of milliseconds, e.g. `'3600 seconds'`. */
export function intervalOf(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`interval must be a positive whole number of ms, got ${ms}`);
  return ms % 1000 === 0 ? `${ms / 1000} seconds` : `${ms} milliseconds`;
}

/** `undefined` for "keep forever" (0 days). */
export function retentionMs(days: number): number | undefined {
  return days > 0 ? days * DAY_MS : undefined;
}

/** Problems with a combination of settings, for the configuration check at start. */
export function storageSettingsProblems(settings: StorageSettings): string[] {
  const problems: string[] = [];
  const raw = settings.rawRetentionDays;
  if (raw > 0 && raw <= REFRESH_RETENTION_MARGIN_DAYS) {
    problems.push(`STORAGE_RAW_RETENTION_DAYS must be 0 (keep) or more than ${REFRESH_RETENTION_MARGIN_DAYS}, got ${raw}`);
  }
  // A rollup dropped before the raw data it summarises would make bucketed queries
  // answer nothing for a range whose raw readings are still there.
  for (const [name, days] of [['STORAGE_ROLLUP_1M_RETENTION_DAYS', settings.rollup1mRetentionDays], ['STORAGE_ROLLUP_1H_RETENTION_DAYS', settings.rollup1hRetentionDays]] as const) {
    if (days > 0 && (raw === 0 || days < raw)) {
      problems.push(`${name} must be 0 (keep) or at least STORAGE_RAW_RETENTION_DAYS (${raw === 0 ? 'keep' : raw}), got ${days}`);
    }
  }
  if (settings.rollup1hRetentionDays > 0 && settings.rollup1mRetentionDays > settings.rollup1hRetentionDays) {
    problems.push('STORAGE_ROLLUP_1H_RETENTION_DAYS must be 0 (keep) or at least STORAGE_ROLLUP_1M_RETENTION_DAYS');
  }
  if (settings.rollup1hRetentionDays > 0 && settings.rollup1mRetentionDays === 0) {
    problems.push('STORAGE_ROLLUP_1H_RETENTION_DAYS must be 0 (keep) when STORAGE_ROLLUP_1M_RETENTION_DAYS is 0 (keep)');
  }
  return problems;
}

/** Records the settings in force; the plain-PostgreSQL partition functions read the chunk interval from here. */
export async function saveStorageSettings(tx: Queryable, settings: StorageSettings): Promise<void> {
  const interval = (days: number) => (days > 0 ? `${days} days` : null);
  await tx.query(
    `UPDATE storage_settings SET chunk_interval = $1::interval, raw_retention = $2::interval,
       rollup_1m_retention = $3::interval, rollup_1h_retention = $4::interval, compress_after = $5::interval,
       maintenance_interval = $6::interval, updated_at = now()`,
    [
      intervalOf(settings.chunkIntervalHours * HOUR_MS),
      interval(settings.rawRetentionDays),
      interval(settings.rollup1mRetentionDays),
      interval(settings.rollup1hRetentionDays),
      interval(settings.compressAfterDays),
      intervalOf(settings.maintenanceIntervalMs),
    ],
  );
}
