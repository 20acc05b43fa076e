import type { FastifyInstance } from 'fastify';
import type { AqiInputs, AqiResult } from '../../alerts/aqi.js';
import { areaAqi, findStations, HOUR_MS, stationInputs } from '../../alerts/station-aqi.js';
import { computeAqi } from '../../alerts/aqi.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';
import { EARLIEST_INSTANT_MS, LATEST_INSTANT_MS } from '../time-params.js';

/** Issue 7: HJ 633-2012 real-time AQI from the 1-hour rollups, per district and per station. */

const hourQuery = {
  at: { type: 'string', format: 'date-time', description: 'Any time in the hour to report; default: the last complete hour.' },
} as const;
const areaQuery = {
  type: 'object', additionalProperties: false, required: ['district'],
  properties: { district: { type: 'string', minLength: 1, maxLength: 128 }, ...hourQuery },
} as const;
const stationQuery = { type: 'object', additionalProperties: false, properties: hourQuery } as const;
const stationParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** A day's margin: the report reads the day before the hour, and the database's timestamps end with year 9999 here. */
const EARLIEST_AT_MS = EARLIEST_INSTANT_MS + 86_400_000;

function reportHour(at: string | undefined): number {
  const ms = at === undefined ? Date.now() - HOUR_MS : Date.parse(at);
  if (!(ms >= EARLIEST_AT_MS && ms <= LATEST_INSTANT_MS - HOUR_MS)) throw badParameter('query', 'at', 'must lie within the years 1 to 9999');
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

function aqiJson(result: AqiResult | undefined) {
  return result ?? { aqi: null, category: null, primaryPollutants: [], exceeding: [], items: [] };
}

/** A station's answer: its AQI and the averaged concentrations it was computed from. */
const stationJson = (inputs: AqiInputs) => ({ ...aqiJson(computeAqi(inputs)), inputs });

export async function aqiRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.get('/api/v1/aqi', { schema: { querystring: areaQuery } }, async (request) => {
    await context.requireRole(request, 'reader');
    const query = request.query as { district: string; at?: string };
    const hourStartMs = reportHour(query.at);
    const stations = await findStations(context.db, { district: query.district });
    const inputs = await Promise.all(stations.map((station) => stationInputs(context.db, context.dictionary, station, hourStartMs)));
    const area = areaAqi(inputs);
    return {
      district: query.district,
      hour: new Date(hourStartMs).toISOString(),
      standard: 'HJ 633-2012 real-time report',
      ...aqiJson(area),
      stations: stations.map((station, index) => ({ station: station.id, ...stationJson(inputs[index] ?? {}) })),
    };
  });

  app.get('/api/v1/aqi/stations/:id', { schema: { params: stationParams, querystring: stationQuery } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const query = request.query as { at?: string };
    const [station] = await findStations(context.db, { id });
    if (station === undefined) throw new ProblemError('not_found', 404, `no air-quality station "${id}" (an environment-domain device)`);
    const hourStartMs = reportHour(query.at);
    const inputs = await stationInputs(context.db, context.dictionary, station, hourStartMs);
    return { station: station.id, district: station.district ?? null, hour: new Date(hourStartMs).toISOString(), standard: 'HJ 633-2012 real-time report', ...stationJson(inputs) };
  });
}
