import type { Domain } from '../contracts/metric-catalogue.js';
import type { Queryable } from './database.js';

export interface SnapshotQuery {
  domain: Domain | undefined;
  /** Only these metrics; `undefined` for all. */
  metricNums: readonly number[] | undefined;
  district: string | undefined;
  /** WGS 84 box; devices without a location are outside every box. */
  bbox: { minLon: number; minLat: number; maxLon: number; maxLat: number } | undefined;
  /** Devices whose id sorts after this one (keyset pagination). */
  afterId: string | undefined;
  /** Devices per page. */
  limit: number;
}

export interface SnapshotRow {
  deviceId: string;
  domain: Domain;
  district: string | undefined;
  location: { latitude: number; longitude: number } | undefined;
  metricKey: string;
  time: Date;
  value: number;
  qualityCode: number;
}

/**
 * The newest reading of each metric of each enabled device matching the filters: a page
 * of devices by id, then one index probe per series the device has (reading_series,
 * migration 006) — the cost is the page, never the history, and a metric a device never
 * reported costs nothing.
 */
export async function querySnapshot(db: Queryable, query: SnapshotQuery): Promise<{ rows: SnapshotRow[]; lastDeviceId: string | undefined; devices: number }> {
  const box = query.bbox;
  const result = await db.query<{
    id: string; domain: Domain; district: string | null; latitude: number | null; longitude: number | null;
    key: string | null; time: Date | null; value: number | null; quality: number | null;
  }>(
    `WITH page AS (
       SELECT id, num, domain, district, latitude, longitude FROM devices
       WHERE NOT disabled AND ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR domain = $2)
         AND ($3::text IS NULL OR district = $3)
         AND ($4::float8 IS NULL OR (longitude BETWEEN $4 AND $6 AND latitude BETWEEN $5 AND $7))
       ORDER BY id LIMIT $8)
     SELECT p.id, p.domain, p.district, p.latitude, p.longitude, l.key, l.time, l.value, l.quality
     FROM page p
     LEFT JOIN LATERAL (
       SELECT m.key, r.time, r.value, r.quality
       FROM reading_series s JOIN metrics m ON m.num = s.metric_num
       CROSS JOIN LATERAL (
         SELECT time, value, quality FROM readings WHERE device_num = p.num AND metric_num = s.metric_num ORDER BY time DESC LIMIT 1) r
       WHERE s.device_num = p.num AND ($9::smallint[] IS NULL OR s.metric_num = ANY($9::smallint[]))
     ) l ON true
     ORDER BY p.id, l.key`,
    [
      query.afterId ?? null, query.domain ?? null, query.district ?? null,
      box?.minLon ?? null, box?.minLat ?? null, box?.maxLon ?? null, box?.maxLat ?? null,
      query.limit, query.metricNums === undefined ? null : [...query.metricNums],
    ],
  );
  const ids = new Set(result.rows.map((row) => row.id));
  return {
    devices: ids.size,
    lastDeviceId: [...ids].at(-1),
    rows: result.rows.flatMap((row) => (row.key === null || row.time === null || row.value === null ? [] : [{
      deviceId: row.id,
      domain: row.domain,
      district: row.district ?? undefined,
      location: row.latitude === null || row.longitude === null ? undefined : { latitude: row.latitude, longitude: row.longitude },
      metricKey: row.key,
      time: new Date(row.time),
      value: row.value,
      qualityCode: row.quality ?? 0,
    }])),
  };
}
