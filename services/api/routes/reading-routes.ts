import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { qualityFromCode } from '../../../contracts/reading.js';
import { resolveDeviceNums } from '../../../storage/devices-store.js';
import { queryLatest } from '../../../storage/readings-store.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';
import { answerBucketed, answerRaw, toCsv, type NamedDevice } from '../readings-answer.js';
import { MAX_DEVICES_PER_REQUEST, planReadings, readingsQuerySchema, type ReadingsQueryString } from '../readings-params.js';
import { deviceIdParams } from './device-routes.js';

async function deviceNumOrNotFound(context: ApiContext, id: string): Promise<number> {
  const num = (await resolveDeviceNums(context.db, [id])).get(id);
  if (num === undefined) throw new ProblemError('not_found', 404, `no device "${id}"`);
  return num;
}

/** `Accept: text/csv` (and no preference for JSON before it) asks for CSV. */
function wantsCsv(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  const csv = accept.indexOf('text/csv');
  const json = accept.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}

async function answerReadings(context: ApiContext, request: FastifyRequest, reply: FastifyReply, devices: NamedDevice[], multiSeries: boolean) {
  const plan = planReadings(context, request.query as ReadingsQueryString, Date.now());
  const answer = plan.bucketed === undefined ? await answerRaw(context, devices, plan, multiSeries) : await answerBucketed(context, devices, plan);
  if (!wantsCsv(request)) {
    if (multiSeries) return answer;
    // One device: it is named once, at the top, as before the multi-series form existed.
    const readings = 'readings' in answer ? { readings: answer.readings.map(({ device: _device, ...reading }) => reading) } : {};
    return { device: devices[0]?.id, ...answer, ...readings };
  }
  const next = 'nextCursor' in answer ? answer.nextCursor : null;
  if (next !== null) reply.header('x-next-cursor', next);
  reply.header('x-source', answer.source);
  return reply.type('text/csv; charset=utf-8').send(toCsv(answer));
}

export async function readingRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const unitOf = (metric: string) => context.catalogue.get(metric)?.unit ?? null;

  app.get('/api/v1/devices/:id/readings', { schema: { params: deviceIdParams, querystring: readingsQuerySchema(context.maxReadings, false) } }, async (request, reply) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const num = await deviceNumOrNotFound(context, id);
    return answerReadings(context, request, reply, [{ id, num }], false);
  });

  app.get('/api/v1/readings', { schema: { querystring: readingsQuerySchema(context.maxReadings, true) } }, async (request, reply) => {
    await context.requireRole(request, 'reader');
    const ids = [...new Set((request.query as { device: string }).device.split(','))];
    if (ids.length > MAX_DEVICES_PER_REQUEST) throw badParameter('query', 'device', `names ${ids.length} devices; the limit is ${MAX_DEVICES_PER_REQUEST}`);
    const nums = await resolveDeviceNums(context.db, ids);
    const missing = ids.filter((id) => !nums.has(id));
    if (missing.length > 0) throw badParameter('query', 'device', `no device ${missing.slice(0, 5).map((id) => `"${id}"`).join(', ')}`);
    return answerReadings(context, request, reply, ids.map((id) => ({ id, num: nums.get(id) ?? 0 })), true);
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
