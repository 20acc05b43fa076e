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
}

const DEVICE_COLUMNS = 'id, domain, name, disabled, created_at, updated_at, profile, parent_id, online';

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
  };
}

export interface NewDevice {
  id: string;
  domain: Domain;
  name: string;
  secretHash: string;
  profile?: string;
}

/** Inserts a device; `undefined` when the id is taken. */
export async function insertDevice(db: Queryable, device: NewDevice): Promise<Device | undefined> {
  const result = await db.query<DeviceRow>(
    `INSERT INTO devices (id, domain, name, secret_hash, profile) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING ${DEVICE_COLUMNS}`,
    [device.id, device.domain, device.name, device.secretHash, device.profile ?? null],
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
}

export async function listDevices(db: Queryable, query: DevicePageQuery): Promise<Device[]> {
  const result = await db.query<DeviceRow>(
    `SELECT ${DEVICE_COLUMNS} FROM devices
     WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR domain = $2)
     ORDER BY id LIMIT $3`,
    [query.afterId ?? null, query.domain ?? null, query.limit],
  );
  return result.rows.map(toDevice);
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
