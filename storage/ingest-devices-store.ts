import type { Domain } from '../contracts/metric-catalogue.js';
import type { Queryable } from './database.js';

/** What the ingest step needs to know of a device. */
export interface IngestDevice {
  num: number;
  domain: Domain;
  profile: string | undefined;
  parentId: string | undefined;
}

/**
 * Children have no MQTT credentials of their own: this is not a scrypt hash, so every
 * secret fails against it (services/auth/device-secrets.ts).
 */
export const NO_SECRET = 'none:sparkplug-device';

export async function findIngestDevices(db: Queryable, ids: readonly string[]): Promise<Map<string, IngestDevice>> {
  if (ids.length === 0) return new Map();
  const result = await db.query<{ id: string; num: number; domain: Domain; profile: string | null; parent_id: string | null }>(
    'SELECT id, num, domain, profile, parent_id FROM devices WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(result.rows.map((row) => [row.id, {
    num: row.num, domain: row.domain, profile: row.profile ?? undefined, parentId: row.parent_id ?? undefined,
  }]));
}

/** Registers Sparkplug devices `{edge}.{device}` under their edge node, with its domain; existing ids are left alone. */
export async function registerChildDevices(db: Queryable, children: readonly { id: string; parentId: string; name: string }[]): Promise<void> {
  if (children.length === 0) return;
  await db.query(
    `INSERT INTO devices (id, domain, name, secret_hash, parent_id)
     SELECT child.id, parent.domain, child.name, $4, parent.id
     FROM unnest($1::text[], $2::text[], $3::text[]) AS child(id, parent_id, name)
     JOIN devices parent ON parent.id = child.parent_id
     ON CONFLICT (id) DO NOTHING`,
    [children.map((child) => child.id), children.map((child) => child.parentId), children.map((child) => child.name), NO_SECRET],
  );
}

export async function setDeviceOnline(db: Queryable, id: string, online: boolean, at: Date): Promise<void> {
  await db.query('UPDATE devices SET online = $2, online_changed_at = $3 WHERE id = $1', [id, online, at.toISOString()]);
}

/**
 * Issue 7: a device's own status message (its MQTT will or its birth). Messages of one
 * device may be processed out of order by different workers, so a change older than the
 * one stored is ignored. `true` when the state was written.
 */
export async function setDeviceStatus(db: Queryable, id: string, online: boolean, at: Date): Promise<boolean> {
  const result = await db.query(
    'UPDATE devices SET online = $2, online_changed_at = $3 WHERE id = $1 AND (online_changed_at IS NULL OR online_changed_at <= $3)',
    [id, online, at.toISOString()],
  );
  return (result.rowCount ?? 0) > 0;
}

/** NDEATH: the devices behind an edge node are unreachable with it. */
export async function setChildrenOffline(db: Queryable, parentId: string, at: Date): Promise<void> {
  await db.query(
    'UPDATE devices SET online = false, online_changed_at = $2 WHERE parent_id = $1 AND online IS DISTINCT FROM false',
    [parentId, at.toISOString()],
  );
}
