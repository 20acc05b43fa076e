import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { findFreePort } from '../../runtime/free-port.js';
import { queryAggregates } from '../../storage/aggregates-query.js';
import type { Database } from '../../storage/database.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { queryRawRange } from '../../storage/readings-store.js';
import { querySnapshot } from '../../storage/snapshot-store.js';
import { DAY_MS, HOUR_MS } from '../storage-dataset.js';
import { startRole } from '../support/role-process.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../support/scenario.js';
import { ensureHistory, type History, type HistoryShape } from './history-loader.js';
import { timeQueriesInTurns, type Timing } from './query-timing.js';

/*
 * Scenario 5: the operators' queries over a month of city history, timed twice: through
 * the API process over HTTP (what an operator waits for) and through the storage
 * functions in this process (the database's share). Each repetition asks for another
 * series, so the figures are not one cached page.
 */

const FULL: HistoryShape = { devices: 1000, metrics: 5, days: 30 };
const QUICK: HistoryShape = { devices: 20, metrics: 5, days: 2 };
/** Series of the multi-series query: the most devices one request may name (MAX_DEVICES_PER_REQUEST). */
const MULTI_SERIES = 50;

interface Answer {
  /** raw, rollup_1m or rollup_1h, as the answer (or the storage function) says. */
  source: string;
  /** Readings, buckets or latest values in the answer. */
  items: number;
}

interface QueryCase {
  name: string;
  title: string;
  /** Items a complete answer holds: checked on every repetition, a wrong answer fails the run. */
  expected: number;
  target?: { p95Ms: number };
  storage(repetition: number): Promise<Answer>;
  http(repetition: number): Promise<Answer>;
}

/** Repetitions the storage timing skips ahead: with the stride below, it asks for devices the API timing did not. */
const STORAGE_SERIES_OFFSET = 500;

function seriesOf(history: History, repetition: number): { device: number; metric: number } {
  // A stride prime to the fleet size visits every device before repeating one.
  return { device: ((repetition * 7919) % history.shape.devices) + 1, metric: repetition % history.shape.metrics };
}

async function getJson<T>(apiUrl: string, adminKey: string, pathAndQuery: string): Promise<T> {
  const response = await fetch(`${apiUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${adminKey}` } });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${pathAndQuery}: ${response.status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

function queryCases(history: History, db: Database, apiUrl: string, adminKey: string): QueryCase[] {
  const to = history.to.getTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const get = <T>(pathAndQuery: string) => getJson<T>(apiUrl, adminKey, pathAndQuery);
  const weekMs = Math.min(7 * DAY_MS, history.shape.days * DAY_MS);
  const multiDevices = Math.min(MULTI_SERIES, history.shape.devices);
  const multiMetrics = Math.min(history.shape.metrics, Math.ceil(MULTI_SERIES / multiDevices));
  const multiIds = (repetition: number) => Array.from({ length: multiDevices }, (_, index) => ((repetition * MULTI_SERIES + index) % history.shape.devices) + 1);
  type Bucketed = { source: string; series: { buckets: unknown[] }[] };
  const bucketCount = (answer: Bucketed): Answer => ({ source: answer.source, items: answer.series.reduce((sum, series) => sum + series.buckets.length, 0) });
  return [
    {
      name: 'series_24h_raw',
      title: 'one series, 24 h raw',
      expected: 1440,
      async storage(repetition) {
        const { device, metric } = seriesOf(history, repetition);
        const rows = await queryRawRange(db, { deviceNum: device, metricNums: [history.metricNums[metric]!], from: new Date(to - DAY_MS), to: new Date(to), limit: 1440, after: undefined });
        return { source: 'raw', items: rows.length };
      },
      async http(repetition) {
        const { device, metric } = seriesOf(history, repetition);
        const answer = await get<{ source: string; readings: unknown[] }>(
          `/api/v1/devices/${history.deviceIds[device - 1]}/readings?metric=${history.metricKeys[metric]}&from=${iso(to - DAY_MS)}&to=${iso(to)}&limit=1440`);
        return { source: answer.source, items: answer.readings.length };
      },
    },
    {
      name: 'series_30d_1h',
      title: `one series, ${history.shape.days} days in 1-hour buckets`,
      expected: history.shape.days * 24,
      target: { p95Ms: 20 },
      async storage(repetition) {
        const { device, metric } = seriesOf(history, repetition);
        const result = await queryAggregates(db, { deviceNum: device, metricNums: [history.metricNums[metric]!], from: history.from, to: history.to, bucketMs: HOUR_MS, aggs: ['avg', 'min', 'max'] });
        return { source: result.source, items: result.rows.length };
      },
      async http(repetition) {
        const { device, metric } = seriesOf(history, repetition);
        return bucketCount(await get<Bucketed>(
          `/api/v1/devices/${history.deviceIds[device - 1]}/readings?metric=${history.metricKeys[metric]}&from=${iso(history.from.getTime())}&to=${iso(to)}&bucket=1h&agg=avg,min,max`));
      },
    },
    {
      name: 'series_50x7d_1h',
      title: `${multiDevices * multiMetrics} series (${multiDevices} devices × ${multiMetrics} metrics), ${weekMs / DAY_MS} days in 1-hour buckets`,
      expected: multiDevices * multiMetrics * (weekMs / HOUR_MS),
      async storage(repetition) {
        const metricNums = history.metricNums.slice(0, multiMetrics);
        // As the API answers a multi-series request: one query per device, side by side on the pool.
        const results = await Promise.all(multiIds(repetition).map((device) =>
          queryAggregates(db, { deviceNum: device, metricNums, from: new Date(to - weekMs), to: new Date(to), bucketMs: HOUR_MS, aggs: ['avg'] })));
        return { source: results[0]?.source ?? 'none', items: results.reduce((sum, result) => sum + result.rows.length, 0) };
      },
      async http(repetition) {
        const devices = multiIds(repetition).map((device) => history.deviceIds[device - 1]).join(',');
        return bucketCount(await get<Bucketed>(
          `/api/v1/readings?device=${devices}&metric=${history.metricKeys.slice(0, multiMetrics).join(',')}&from=${iso(to - weekMs)}&to=${iso(to)}&bucket=1h&agg=avg`));
      },
    },
    {
      name: 'latest_snapshot',
      title: `city-wide latest snapshot of ${history.shape.devices} devices`,
      expected: history.shape.devices * history.shape.metrics,
      target: { p95Ms: 50 },
      async storage() {
        const page = await querySnapshot(db, { domain: undefined, metricNums: undefined, district: undefined, bbox: undefined, afterId: undefined, limit: history.shape.devices });
        return { source: 'reading_series (newest reading kept by the writer)', items: page.devices.reduce((sum, device) => sum + device.readings.length, 0) };
      },
      async http() {
        const answer = await get<{ devices: { metrics: Record<string, unknown> }[] }>(`/api/v1/latest?limit=${history.shape.devices}`);
        return { source: 'reading_series (newest reading kept by the writer)', items: answer.devices.reduce((sum, device) => sum + Object.keys(device.metrics).length, 0) };
      },
    },
  ];
}

/** Times `run`, checking every answer is whole; returns the timing and the source the answers named. */
/** The case through the API and through storage, in turns; every answer is checked for its size. */
async function timeCase(context: BenchContext, query: QueryCase): Promise<{ viaApi: Timing; direct: Timing; source: string }> {
  const sources = new Set<string>();
  const checked = (run: (repetition: number) => Promise<Answer>, label: string) => async (repetition: number) => {
    const answer = await run(repetition);
    if (answer.items !== query.expected) throw new Error(`${query.name} via ${label}: ${answer.items} items in the answer, ${query.expected} expected`);
    if (label === 'API') sources.add(answer.source);
  };
  const [viaApi, direct] = await timeQueriesInTurns({ warmup: 3, repetitions: context.quick ? 10 : 200, budgetMs: context.quick ? 10_000 : 120_000 }, [
    checked((repetition) => query.http(repetition), 'API'),
    // Other series than the API's in the same turn, so neither answers from what the other just read.
    checked((repetition) => query.storage(repetition + STORAGE_SERIES_OFFSET), 'storage'),
  ]);
  const source = [...sources].join(', ');
  context.progress(`${query.name}: API p50 ${viaApi.p50} ms, p95 ${viaApi.p95} ms; storage p50 ${direct.p50} ms, p95 ${direct.p95} ms; over ${viaApi.repetitions} (${source})`);
  return { viaApi, direct, source };
}

function msFigure(value: number, target: number | undefined): Figure {
  return target === undefined ? { value, unit: 'ms' } : { value, unit: 'ms', target: `< ${target}`, met: value < target };
}

export const queriesScenario: Scenario = {
  name: 'queries',
  title: 'Queries over a realistic history',
  async run(context): Promise<ScenarioResult> {
    const shape = context.quick ? QUICK : FULL;
    const history = await ensureHistory(context.postgresUrl, shape, { progress: context.progress });
    const loadedRows = history.readings * 2 + history.readings / 60; // readings, rollup_1m (one per reading), rollup_1h
    context.progress(`history ${history.reused ? 'reused' : 'loaded'}: ${history.readings} readings, ${history.from.toISOString()} … ${history.to.toISOString()}`);
    const adminKey = `bench-admin-${randomBytes(16).toString('hex')}`;
    const httpPort = await findFreePort();
    const api = await startRole('api', ['api'], {
      DATABASE_URL: history.url, REDIS_URL: context.redisUrl, QUEUE_PREFIX: `bench-queries-${randomBytes(3).toString('hex')}`,
      DATA_DIR: path.join(context.workDir, 'api'), LISTEN_HOST: '127.0.0.1', HTTP_PORT: String(httpPort),
      API_ADMIN_KEY: adminKey, API_RATE_LIMIT_PER_MINUTE: '0',
    }, context.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(context.cpuProfileDir, 'queries-api')}`]);
    const db = createPgDatabase({ connectionString: history.url, maxConnections: 10 });
    const figures: Record<string, Figure> = {};
    const sources: string[] = [];
    try {
      for (const query of queryCases(history, db, `http://127.0.0.1:${httpPort}`, adminKey)) {
        const { viaApi, direct, source } = await timeCase(context, query);
        figures[`${query.name}_api_p50`] = msFigure(viaApi.p50, undefined);
        figures[`${query.name}_api_p95`] = msFigure(viaApi.p95, query.target?.p95Ms);
        figures[`${query.name}_storage_p50`] = msFigure(direct.p50, undefined);
        figures[`${query.name}_storage_p95`] = msFigure(direct.p95, undefined);
        sources.push(`${query.name} (${query.title}): source ${source}; ${viaApi.repetitions} repetitions via the API, ${direct.repetitions} via storage; max ${viaApi.max} / ${direct.max} ms.`);
      }
    } finally {
      await db.close();
      await api.stop();
    }
    return {
      name: 'queries',
      title: 'Queries over a realistic history',
      figures: {
        ...figures,
        history_load_rate: { value: Math.round(loadedRows / history.loadSeconds), unit: 'rows/s' },
      },
      configuration: {
        devices: shape.devices, metricsPerDevice: shape.metrics, days: shape.days, resolution: '1 min', readings: history.readings,
        databaseMode: 'postgresql (partitions, rollups kept by the app)', historyReused: history.reused, historyLoadS: Math.round(history.loadSeconds),
      },
      notes: [
        `API figures: GET requests to the api role process (node dist/runtime/main.js, ROLES=api) over HTTP/1.1 keep-alive, one at a time; storage figures: the storage functions (queryRawRange, queryAggregates, querySnapshot) called in the bench process on a pool of 10 connections. The two are timed in turns, request by request (which goes first alternates), storage for other devices than the API's, so both meet the same cache.`,
        ...sources,
        `History: ${history.readings.toLocaleString('en')} readings plus their rollups (${Math.round(loadedRows).toLocaleString('en')} rows), generated inside PostgreSQL by INSERT … SELECT per partition; ${history.reused ? 'reused from an earlier run (load rate is that run\'s)' : 'loaded in this run'} in ${Math.round(history.loadSeconds)} s. It stays in database ${history.url.split('/').pop()} for the next run on the same server.`,
      ],
    };
  },
};
