import type { FastifyInstance } from 'fastify';
import { parseIsoInstant } from '../../../contracts/iso-time.js';
import { qualityFromCode } from '../../../contracts/reading.js';
import { resolveDeviceNums } from '../../../storage/devices-store.js';
import { queryLatest, queryRawRange } from '../../../storage/readings-store.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';
import { decodeCursor, encodeCursor } from '../reading-cursor.js';
import { deviceIdParams } from './device-routes.js';

const DEFAULT_RANGE_MS = 24 * 3600 * 1000;
const DEFAULT_LIMIT = 1000;

function readingsQuery(maxReadings: number) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      metric: { type: 'string', maxLength: 2000, description: 'Comma-separated catalogue keys; all metrics when absent.' },
      from: { type: 'string', maxLength: 40, description: 'ISO 8601 instant with offset, inclusive. Default: 24 h before `to`.' },
      to: { type: 'string', maxLength: 40, description: 'ISO 8601 instant with offset, exclusive. Default: now.' },
      limit: { type: 'integer', minimum: 1, maximum: maxReadings, default: Math.min(DEFAULT_LIMIT, maxReadings) },
      cursor: { type: 'string', maxLength: 200, description: 'nextCursor of the previous page.' },
    },
  } as const;
}

function instant(name: 'from' | 'to', raw: string | undefined, fallbackMs: number): Date {
  if (raw === undefined) return new Date(fallbackMs);
  const ms = parseIsoInstant(raw);
  if (ms === undefined) throw badParameter('query', name, `"${raw}" is not an ISO 8601 instant with offset, e.g. 2026-11-21T08:00:00+08:00`);
  return new Date(ms);
}

async function deviceNumOrNotFound(context: ApiContext, id: string): Promise<number> {
  const num = (await resolveDeviceNums(context.db, [id])).get(id);
  if (num === undefined) throw new ProblemError('not_found', 404, `no device "${id}"`);
  return num;
}

export async function readingRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const unitOf = (metric: string) => context.catalogue.get(metric)?.unit ?? null;

  app.get('/api/v1/devices/:id/readings', { schema: { params: deviceIdParams, querystring: readingsQuery(context.maxReadings) } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const query = request.query as { metric?: string; from?: string; to?: string; limit: number; cursor?: string };
    const to = instant('to', query.to, Date.now());
    const from = instant('from', query.from, to.getTime() - DEFAULT_RANGE_MS);
    if (from.getTime() >= to.getTime()) throw badParameter('query', 'from', 'must be before "to"');
    const metrics = query.metric?.split(',').map((key) => key.trim()).filter(Boolean);
    const metricNums = metrics?.map((key) => {
      const num = context.catalogue.has(key) ? context.dictionary.numOf(key) : undefined;
      if (num === undefined) throw badParameter('query', 'metric', `"${key.slice(0, 64)}" is not a catalogue metric (GET /api/v1/metrics lists them)`);
      return num;
    });
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined) throw badParameter('query', 'cursor', 'is not a cursor this API issued');

    const deviceNum = await deviceNumOrNotFound(context, id);
    const rows = await queryRawRange(context.db, { deviceNum, metricNums, from, to, limit: query.limit, after });
    const last = rows.at(-1);
    return {
      device: id,
      from: from.toISOString(),
      to: to.toISOString(),
      order: 'asc',
      source: 'raw',
      readings: rows.map((row) => {
        const metric = context.dictionary.keyOf(row.metricNum) ?? String(row.metricNum);
        return {
          time: row.time.toISOString(),
          metric,
          value: row.value,
          unit: unitOf(metric),
          quality: qualityFromCode(row.qualityCode),
          ...(row.sourceQuality === undefined ? {} : { sourceQuality: row.sourceQuality }),
        };
      }),
      nextCursor: rows.length === query.limit && last !== undefined ? encodeCursor({ time: last.time, metricNum: last.metricNum }) : null,
    };
  });

  app.get('/api/v1/devices/:id/latest', { schema: { params: deviceIdParams } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const rows = await queryLatest(context.db, await deviceNumOrNotFound(context, id));
    const metrics: Record<string, unknown> = {};
    for (const row of rows) {
      metrics[row.metricKey] = {
        time: row.time.toISOString(),
        value: row.value,
        unit: unitOf(row.metricKey),
        quality: qualityFromCode(row.qualityCode),
      };
    }
    return { device: id, metrics };
  });
}
