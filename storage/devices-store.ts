import type { Domain } from '../contracts/metric-catalogue.js';
import type { Queryable } from './database.js';

export interface Device {
  id: string;
  domain: Domain;
  name: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Vendor profile its telemetry is decoded with (DEVICE_PROFILES_FILE). */
  profile: string | undefined;
  /** Edge node of a Sparkplug device `{edge}.{device}`. */
  parentId: string | undefined;
  /** Set by Sparkplug BIRTH/DEATH; `undefined` when never reported. */
  online: boolean | undefined;
  /** Administrative area (migration 005); `undefined` when not placed. */
  district: string | undefined;
  /** WGS 84 degrees (migration 004); `undefined` when not placed. */
  location: { latitude: number; longitude: number } | undefined;
  /** Issue 7: how often it reports, for offline detection; `undefined`: its profile's, else the stack's default. */
  expectedIntervalS: number | undefined;
}

export interface DeviceCredentials {
  num: number;
  secretHash: string;
  disabled: boolean;
}

interface DeviceRow {
  id: string;
  domain: Domain;
  name: string;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
  profile: string | null;
  parent_id: string | null;
  online: boolean | null;
  district: string | null;
  latitude: number | null;
  longitude: number | null;
  expected_interval_s: number | null;
}

const DEVICE_COLUMNS = 'id, domain, name, disabled, created_at, updated_at, profile, parent_id, online, district, latitude, longitude, expected_interval_s';

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    domain: row.domain,
    name: row.name,
    disabled: row.disabled,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    profile: row.profile ?? undefined,
    parentId: row.parent_id ?? undefined,
    online: row.online ?? undefined,
    district: row.district ?? undefined,
    location: row.latitude === null || row.longitude === null ? undefined : { latitude: row.latitude, longitude: row.longitude },
    expectedIntervalS: row.expected_interval_s ?? undefined,
  };
}

export interface NewDevice {
  id: string;
  domain: Domain;
  name: string;
  secretHash: string;
  profile?: string;
  expectedIntervalS?: number;
}

/** Inserts a device; `undefined` when the id is taken. */
export async function insertDevice(db: Queryable, device: NewDevice): Promise<Device | undefined> {
  const result = await db.query<DeviceRow>(
    `INSERT INTO devices (id, domain, name, secret_hash, profile, expected_interval_s) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING RETURNING ${DEVICE_COLUMNS}`,
    [device.id, device.domain, device.name, device.secretHash, device.profile ?? null, device.expectedIntervalS ?? null],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toDevice(row);
}

export async function findDevice(db: Queryable, id: string): Promise<Device | undefined> {
  const result = await db.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : toDevice(row);
}

export interface DevicePageQuery {
  /** Devices whose id sorts after this one (keyset pagination). */
  afterId: string | undefined;
  limit: number;
  domain: Domain | undefined;
  /** Only devices in this district. @defaultValue all */
  district?: string;
  /** Only enabled (false) or disabled (true) devices. @defaultValue both */
  disabled?: boolean;
}

export async function listDevices(db: Queryable, query: DevicePageQuery): Promise<Device[]> {
  const result = await db.query<DeviceRow>(
    `SELECT ${DEVICE_COLUMNS} FROM devices
     WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR domain = $2)
       AND ($4::text IS NULL OR district = $4) AND ($5::boolean IS NULL OR disabled = $5)
     ORDER BY id LIMIT $3`,
    [query.afterId ?? null, query.domain ?? null, query.limit, query.district ?? null, query.disabled ?? null],
  );
  return result.rows.map(toDevice);
}

/** Metadata an operator may change; `null` clears an optional field, absent leaves it. */
export interface DevicePatch {
  name?: string;
  domain?: Domain;
  district?: string | null;
  location?: { latitude: number; longitude: number } | null;
  profile?: string | null;
  disabled?: boolean;
  expectedIntervalS?: number | null;
}

/** Applies a patch; `undefined` when there is no such device. */
export async function updateDevice(db: Queryable, id: string, patch: DevicePatch): Promise<Device | undefined> {
  // Fixed column names only; values are bind parameters.
  const sets: string[] = [];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.domain !== undefined) set('domain', patch.domain);
  if (patch.district !== undefined) set('district', patch.district);
  if (patch.profile !== undefined) set('profile', patch.profile);
  if (patch.disabled !== undefined) set('disabled', patch.disabled);
  if (patch.expectedIntervalS !== undefined) set('expected_interval_s', patch.expectedIntervalS);
  if (patch.location !== undefined) {
    set('latitude', patch.location?.latitude ?? null);
    set('longitude', patch.location?.longitude ?? null);
  }
  const result = await db.query<DeviceRow>(
    `UPDATE devices SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${DEVICE_COLUMNS}`,
    values,
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toDevice(row);
}

/** Replaces the MQTT secret's hash; false when there is no such device. */
export async function setDeviceSecret(db: Queryable, id: string, secretHash: string): Promise<boolean> {
  const result = await db.query<{ id: string }>('UPDATE devices SET secret_hash = $2, updated_at = now() WHERE id = $1 RETURNING id', [id, secretHash]);
  return result.rows.length > 0;
}

/**
 * Removes a device; false when there is none. Its readings stay (history is not erased
 * by an inventory change) under its storage number, which is never reused: a device
 * registered again under the same id starts a new history.
 */
export async function deleteDevice(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query<{ id: string }>('DELETE FROM devices WHERE id = $1 RETURNING id', [id]);
  return result.rows.length > 0;
}

/** Time of each device's newest reading: one index probe per (device, metric), however long the history. */
export async function lastSeen(db: Queryable, ids: readonly string[]): Promise<Map<string, Date>> {
  if (ids.length === 0) return new Map();
  const result = await db.query<{ id: string; last: Date | null }>(
    `SELECT d.id, (SELECT max(r.time) FROM metrics m CROSS JOIN LATERAL (
        SELECT time FROM readings WHERE device_num = d.num AND metric_num = m.num ORDER BY time DESC LIMIT 1) r) AS last
     FROM devices d WHERE d.id = ANY($1::text[])`,
    [ids],
  );
  return new Map(result.rows.flatMap((row) => (row.last === null ? [] : [[row.id, new Date(row.last)] as const])));
}

export async function findDeviceCredentials(db: Queryable, id: string): Promise<DeviceCredentials | undefined> {
  const result = await db.query<{ num: number; secret_hash: string; disabled: boolean }>(
    'SELECT num, secret_hash, disabled FROM devices WHERE id = $1',
    [id],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { num: row.num, secretHash: row.secret_hash, disabled: row.disabled };
}

/** Storage numbers of the given devices; ids that are not registered are absent. */
export async function resolveDeviceNums(db: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const result = await db.query<{ id: string; num: number }>('SELECT id, num FROM devices WHERE id = ANY($1::text[])', [ids]);
  return new Map(result.rows.map((row) => [row.id, row.num]));
}
