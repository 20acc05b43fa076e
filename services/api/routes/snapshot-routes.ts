import type { FastifyInstance } from 'fastify';
import { DOMAINS, type Domain } from '../../../contracts/metric-catalogue.js';
import { qualityFromCode } from '../../../contracts/reading.js';
import { querySnapshot } from '../../../storage/snapshot-store.js';
import type { ApiContext } from '../api-context.js';
import { badParameter } from '../problem.js';

const NUMBER = '-?\\d{1,3}(\\.\\d{1,10})?';

const snapshotQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    domain: { type: 'string', enum: [...DOMAINS] },
    metric: { type: 'string', maxLength: 2000, description: 'Comma-separated catalogue keys; all metrics when absent.' },
    district: { type: 'string', minLength: 1, maxLength: 100 },
    bbox: { type: 'string', pattern: `^${NUMBER},${NUMBER},${NUMBER},${NUMBER}$`, description: 'minLon,minLat,maxLon,maxLat in WGS 84 degrees (GeoJSON order).' },
    after: { type: 'string', maxLength: 64, description: 'nextAfter of the previous page.' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'Devices per page.' },
  },
} as const;

function parseBbox(raw: string | undefined) {
  if (raw === undefined) return undefined;
  const [minLon = 0, minLat = 0, maxLon = 0, maxLat = 0] = raw.split(',').map(Number);
  if (Math.abs(minLon) > 180 || Math.abs(maxLon) > 180 || Math.abs(minLat) > 90 || Math.abs(maxLat) > 90) {
    throw badParameter('query', 'bbox', 'longitudes must be within ±180 and latitudes within ±90');
  }
  if (minLon > maxLon || minLat > maxLat) throw badParameter('query', 'bbox', 'is minLon,minLat,maxLon,maxLat: each minimum must not exceed its maximum');
  return { minLon, minLat, maxLon, maxLat };
}

/** The city-wide snapshot: the newest value of each metric of every enabled device matching the filters. */
export async function snapshotRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.get('/api/v1/latest', { schema: { querystring: snapshotQuery } }, async (request) => {
    await context.requireRole(request, 'reader');
    const query = request.query as { domain?: Domain; metric?: string; district?: string; bbox?: string; after?: string; limit: number };
    const bbox = parseBbox(query.bbox);
    const metricNums = query.metric?.split(',').map((key) => key.trim()).filter(Boolean).map((key) => {
      const num = context.catalogue.has(key) ? context.dictionary.numOf(key) : undefined;
      if (num === undefined) throw badParameter('query', 'metric', `"${key.slice(0, 64)}" is not a catalogue metric (GET /api/v1/metrics lists them)`);
      return num;
    });
    const page = await querySnapshot(context.db, { domain: query.domain, metricNums, district: query.district, bbox, afterId: query.after, limit: query.limit });
    const devices = page.devices.map((device) => {
      const metrics: Record<string, unknown> = {};
      for (const reading of device.readings) {
        // Numbered by a newer version of the catalogue than this process has: nothing to name it by.
        const key = context.dictionary.keyOf(reading.metricNum);
        if (key === undefined) continue;
        metrics[key] = {
          time: reading.time.toISOString(), value: reading.value, unit: context.catalogue.get(key)?.unit ?? null, quality: qualityFromCode(reading.qualityCode),
        };
      }
      return { id: device.deviceId, domain: device.domain, district: device.district ?? null, location: device.location ?? null, metrics };
    });
    return { devices, nextAfter: page.scanned === query.limit ? page.lastDeviceId ?? null : null };
  });
}
