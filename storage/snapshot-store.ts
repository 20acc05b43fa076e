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

/** The newest reading of one series of a snapshot device. */
export interface SnapshotReading {
  metricNum: number;
  time: Date;
  value: number;
  qualityCode: number;
}

export interface SnapshotDevice {
  deviceId: string;
  domain: Domain;
  district: string | undefined;
  location: { latitude: number; longitude: number } | undefined;
  /** In metric-number order; never empty (devices without a matching series are left out). */
  readings: SnapshotReading[];
}

export interface SnapshotPage {
  devices: SnapshotDevice[];
  /** Devices of the page, with or without readings: when it equals the limit, there may be more. */
  scanned: number;
  /** The page's last device id, the next page's `afterId`. */
  lastDeviceId: string | undefined;
}

/**
 * The newest reading of each metric of each enabled device matching the filters: a page
 * of devices by id, then each device's series with the newest reading the writer keeps
 * beside them (reading_series, migration 008) — the cost is the page, never the history,
 * and a metric a device never reported costs nothing.
 *
 * A device's readings come as one compact JSON array of [metric number, epoch ms, value,
 * quality code]: 1 000 rows of one parsed field instead of 5 000 rows of nine, which took
 * the client longer than the database took to answer (issue 9, measured). Metric keys
 * are the caller's (its dictionary): joining them per device tripled the query's time.
 */
export async function querySnapshot(db: Queryable, query: SnapshotQuery): Promise<SnapshotPage> {
  const box = query.bbox;
  const result = await db.query<{
    id: string; domain: Domain; district: string | null; latitude: number | null; longitude: number | null;
    readings: [number, number, number | string, number][] | null;
  }>(
    `WITH page AS (
       SELECT id, num, domain, district, latitude, longitude FROM devices
       WHERE NOT disabled AND ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR domain = $2)
         AND ($3::text IS NULL OR district = $3)
         AND ($4::float8 IS NULL OR (longitude BETWEEN $4 AND $6 AND latitude BETWEEN $5 AND $7))
       ORDER BY id LIMIT $8)
     SELECT p.id, p.domain, p.district, p.latitude, p.longitude, (
       SELECT json_agg(json_build_array(s.metric_num, (extract(epoch FROM s.last_time) * 1000)::float8, s.last_value, s.last_quality) ORDER BY s.metric_num)
       FROM reading_series s
       WHERE s.device_num = p.num AND s.last_time IS NOT NULL AND ($9::smallint[] IS NULL OR s.metric_num = ANY($9::smallint[]))
     ) AS readings
     FROM page p
     ORDER BY p.id`,
    [
      query.afterId ?? null, query.domain ?? null, query.district ?? null,
      box?.minLon ?? null, box?.minLat ?? null, box?.maxLon ?? null, box?.maxLat ?? null,
      query.limit, query.metricNums === undefined ? null : [...query.metricNums],
    ],
  );
  const devices: SnapshotDevice[] = [];
  for (const row of result.rows) {
    // A non-finite value (never written by the app's writers) is JSON text, not a number: left out.
    const readings = (row.readings ?? []).flatMap(([metricNum, ms, value, qualityCode]) =>
      (typeof value === 'number' ? [{ metricNum, time: new Date(ms), value, qualityCode }] : []));
    if (readings.length === 0) continue;
    devices.push({
      deviceId: row.id,
      domain: row.domain,
      district: row.district ?? undefined,
      location: row.latitude === null || row.longitude === null ? undefined : { latitude: row.latitude, longitude: row.longitude },
      readings,
    });
  }
  return { devices, scanned: result.rows.length, lastDeviceId: result.rows.at(-1)?.id };
}
