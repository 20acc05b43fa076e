import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGGREGATES, type AggregateName } from '../../storage/aggregates-query.js';
import type { Database } from '../../storage/database.js';
import { resolveDeviceNums } from '../../storage/devices-store.js';
import { insertReadings, type StoredReading } from '../../storage/readings-store.js';
import { createStorageMaintenance, type StorageMaintenance } from '../../storage/storage-maintenance.js';
import { DEFAULT_STORAGE_SETTINGS } from '../../storage/storage-settings.js';
import { api, registerDevice } from '../../test/support/api-client.js';
import { mulberry32 } from '../../simulators/models/noise.js';
import { type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

/*
 * Readings queries against values computed here from the readings written: bucket
 * starts come from plain offset arithmetic (and, for New York, the known DST change),
 * never from the code under test.
 */

const ADMIN = `admin-${randomUUID()}`;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SH = 8 * HOUR;
const DATA_FROM = Date.parse('2026-09-25T00:00:00Z');
const DATA_TO = Date.parse('2026-11-05T00:00:00Z');
const TIES_AT = Date.parse('2026-08-01T00:00:00Z');

interface Series { device: string; metric: string; unit: string | null; buckets: ({ time: string } & Record<string, number | null>)[] }
interface Bucketed { source: string; bucket: string; tz: string; aggs: string[]; series: Series[] }
interface Raw { readings: { time: string; device?: string; metric: string; value: number; unit: string }[]; nextCursor: string | null; source: string }

function aggregate(values: { time: number; value: number }[]): Record<AggregateName, number> {
  const sorted = [...values].sort((a, b) => a.time - b.time);
  const sum = sorted.reduce((total, point) => total + point.value, 0);
  return {
    avg: sum / sorted.length, min: Math.min(...sorted.map((p) => p.value)), max: Math.max(...sorted.map((p) => p.value)),
    count: sorted.length, sum, first: sorted[0]!.value, last: sorted.at(-1)!.value,
  };
}

function expected(readings: readonly StoredReading[], metricNum: number, fromMs: number, toMs: number, startOf: (ms: number) => number) {
  const groups = new Map<number, { time: number; value: number }[]>();
  for (const r of readings) {
    const time = r.time.getTime();
    if (r.metricNum !== metricNum || time < fromMs || time >= toMs) continue;
    const start = startOf(time);
    groups.set(start, [...(groups.get(start) ?? []), { time, value: r.value }]);
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([start, values]) => ({ time: new Date(start).toISOString(), ...aggregate(values) }));
}

const shanghaiDay = (ms: number) => Math.floor((ms + SH) / DAY) * DAY - SH;
const shanghaiWeek = (ms: number) => {
  const day = Math.floor((ms + SH) / DAY);
  return (day - ((day + 3) % 7)) * DAY - SH; // 1970-01-01 was a Thursday.
};
const shanghaiMonth = (ms: number) => {
  const local = new Date(ms + SH);
  return Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), 1) - SH;
};
// New York left daylight time at 2026-11-01T06:00Z: midnights are 04:00Z before, 05:00Z after.
const NY_MIDNIGHTS = ['10-28', '10-29', '10-30', '10-31', '11-01'].map((d) => Date.parse(`2026-${d}T04:00:00Z`))
  .concat(['11-02', '11-03'].map((d) => Date.parse(`2026-${d}T05:00:00Z`)));
const newYorkDay = (ms: number) => NY_MIDNIGHTS.filter((start) => start <= ms).at(-1)!;

describe('HTTP API: readings, raw and bucketed', () => {
  let db: Database;
  let maintenance: StorageMaintenance;
  let server: Api;
  let base: string;
  let key: string;
  let pm25: number;
  let pm10: number;
  let nums: Map<string, number>;
  const written: StoredReading[] = [];

  beforeAll(async () => {
    const started = await startTestApi({ adminKey: ADMIN });
    ({ db, server, base } = started);
    const { dictionary } = started;
    maintenance = await createStorageMaintenance({ ...DEFAULT_STORAGE_SETTINGS, rawRetentionDays: 0, rollup1mRetentionDays: 0, loop: false }, { db, capabilities: started.storage.capabilities });
    key = (await api<{ key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'test' } })).body.key;
    for (const id of ['d-a', 'd-b']) await registerDevice(base, ADMIN, { id, domain: 'environment' });
    nums = await resolveDeviceNums(db, ['d-a', 'd-b']);
    pm25 = dictionary.numOf('pm2_5')!;
    pm10 = dictionary.numOf('pm10')!;
    const random = mulberry32(5);
    for (const device of ['d-a', 'd-b']) {
      for (const metricNum of [pm25, pm10]) {
        for (let time = DATA_FROM + Math.floor(random() * 20 * MIN); time < DATA_TO; time += 1 + Math.floor(random() * 34 * MIN)) {
          written.push({ time: new Date(time), deviceNum: nums.get(device)!, metricNum, value: Math.round(random() * 400) / 4, qualityCode: 0, sourceQuality: undefined });
        }
        // Equal timestamps on both devices and metrics, for paging across ties.
        for (let i = 0; i < 5; i++) written.push({ time: new Date(TIES_AT + i * MIN), deviceNum: nums.get(device)!, metricNum, value: i, qualityCode: 0, sourceQuality: undefined });
      }
    }
    for (let start = 0; start < written.length; start += 2000) await insertReadings(db, written.slice(start, start + 2000));
    await maintenance.runNow();
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await maintenance?.close();
    await db?.close();
  });

  const ofDevice = (id: string) => written.filter((r) => r.deviceNum === nums.get(id));
  const all = AGGREGATES.join(',');
  const SEP = '2026-09-01T00:00:00+08:00';
  const DEC = '2026-12-01T00:00:00+08:00';

  it.each([
    ['1h', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', (ms: number) => Math.floor(ms / HOUR) * HOUR],
    ['PT6H', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', (ms: number) => Math.floor((ms + SH) / (6 * HOUR)) * 6 * HOUR - SH],
    ['6h', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', (ms: number) => Math.floor((ms + SH) / (6 * HOUR)) * 6 * HOUR - SH],
    ['2M', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', (ms: number) => (ms < Date.parse('2026-10-31T16:00:00Z') ? Date.parse('2026-08-31T16:00:00Z') : Date.parse('2026-10-31T16:00:00Z'))],
    ['1d', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', shanghaiDay],
    ['P1D', SEP, DEC, 'UTC', 'rollup_1h', (ms: number) => Math.floor(ms / DAY) * DAY],
    ['1w', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', shanghaiWeek],
    ['1M', SEP, DEC, 'Asia/Shanghai', 'rollup_1h', shanghaiMonth],
    ['5m', '2026-10-10T00:00:00+08:00', '2026-10-12T00:00:00+08:00', 'Asia/Shanghai', 'rollup_1m', (ms: number) => Math.floor(ms / (5 * MIN)) * 5 * MIN],
    ['PT90S', '2026-10-10T00:00:00+08:00', '2026-10-12T00:00:00+08:00', 'Asia/Shanghai', 'raw', (ms: number) => Math.floor((ms + SH) / 90_000) * 90_000 - SH],
    ['1d', '2026-10-28T00:00:00-04:00', '2026-11-03T00:00:00-05:00', 'America/New_York', 'rollup_1h', newYorkDay],
    ['1d', '2026-10-10T00:00:00+05:30', '2026-10-20T00:00:00+05:30', 'Asia/Kolkata', 'rollup_1m', (ms: number) => Math.floor((ms + 5.5 * HOUR) / DAY) * DAY - 5.5 * HOUR],
  ])('bucket=%s from %s to %s in %s comes from %s and equals the values computed here', async (bucket, from, to, tz, source, startOf) => {
    const query = new URLSearchParams({ bucket, agg: all, from, to, tz, metric: 'pm2_5,pm10' });
    const answer = await api<Bucketed & { device: string }>(base, 'GET', `/api/v1/devices/d-a/readings?${query}`, { key });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ device: 'd-a', source, tz, aggs: [...AGGREGATES] });
    const fromMs = Date.parse(from);
    const toMs = Date.parse(to);
    for (const [metric, num] of [['pm2_5', pm25], ['pm10', pm10]] as const) {
      const series = answer.body.series.find((s) => s.metric === metric);
      expect(series?.unit).toBe('ug/m3');
      expect(series?.buckets).toEqual(expected(ofDevice('d-a'), num, fromMs, toMs, startOf));
    }
  });

  it('makes a New York day 25 hours long on the day daylight time ends', async () => {
    const answer = await api<Bucketed>(base, 'GET', '/api/v1/devices/d-a/readings?bucket=1d&tz=America/New_York&from=2026-11-01T00:00:00-04:00&to=2026-11-02T00:00:00-05:00&metric=pm10&agg=count', { key });
    expect(answer.body.series[0]?.buckets.map((b) => b.time)).toEqual(['2026-11-01T04:00:00.000Z']);
    const inDay = ofDevice('d-a').filter((r) => r.metricNum === pm10 && r.time.getTime() >= Date.parse('2026-11-01T04:00:00Z') && r.time.getTime() < Date.parse('2026-11-02T05:00:00Z'));
    expect(answer.body.series[0]?.buckets[0]?.count).toBe(inDay.length);
  });

  it('fills empty buckets with nulls and count 0 when fill=null', async () => {
    const answer = await api<Bucketed>(base, 'GET', '/api/v1/devices/d-a/readings?bucket=1d&agg=avg,count&from=2026-09-23T00:00:00%2B08:00&to=2026-09-27T00:00:00%2B08:00&metric=pm2_5&fill=null', { key });
    const buckets = answer.body.series[0]!.buckets;
    expect(buckets.map((b) => b.time)).toEqual(['2026-09-22T16:00:00.000Z', '2026-09-23T16:00:00.000Z', '2026-09-24T16:00:00.000Z', '2026-09-25T16:00:00.000Z']);
    expect(buckets[0]).toEqual({ time: '2026-09-22T16:00:00.000Z', avg: null, count: 0 });
    expect(buckets[3]?.count).toBeGreaterThan(0);
  });

  it('answers several devices and metrics in one request', async () => {
    const answer = await api<Bucketed>(base, 'GET', `/api/v1/readings?device=d-a,d-b&metric=pm2_5,pm10&bucket=1d&agg=avg,max&from=${encodeURIComponent(SEP)}&to=${encodeURIComponent(DEC)}`, { key });
    expect(answer.status).toBe(200);
    expect(answer.body.series.map((s) => `${s.device}/${s.metric}`)).toEqual(['d-a/pm2_5', 'd-a/pm10', 'd-b/pm2_5', 'd-b/pm10']);
    const dbSeries = answer.body.series[3]!;
    const want = expected(ofDevice('d-b'), pm10, Date.parse(SEP), Date.parse(DEC), shanghaiDay).map(({ time, avg, max }) => ({ time, avg, max }));
    expect(dbSeries.buckets).toEqual(want);
  });

  it.each(['asc', 'desc'] as const)('pages raw readings %s with a cursor across equal timestamps, one device and several', async (order) => {
    const window = `from=2026-08-01T00:00:00Z&to=2026-08-01T01:00:00Z&order=${order}&limit=3`;
    for (const [route, devices] of [['/api/v1/devices/d-a/readings?', ['d-a']], ['/api/v1/readings?device=d-b,d-a&', ['d-a', 'd-b']]] as const) {
      const want = written
        .filter((r) => devices.some((d) => nums.get(d) === r.deviceNum) && r.time.getTime() < TIES_AT + HOUR && r.time.getTime() >= TIES_AT)
        .sort((a, b) => a.time.getTime() - b.time.getTime() || a.deviceNum - b.deviceNum || a.metricNum - b.metricNum)
        .map((r) => `${r.time.toISOString()} ${[...nums].find(([, n]) => n === r.deviceNum)![0]} ${r.metricNum === pm25 ? 'pm2_5' : 'pm10'} ${r.value}`);
      if (order === 'desc') want.reverse();
      const got: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const answer: { body: Raw & { device?: string } } = await api<Raw & { device?: string }>(base, 'GET', `${route}${window}${cursor === null ? '' : `&cursor=${cursor}`}`, { key });
        expect(answer.body.readings.length).toBeLessThanOrEqual(3);
        got.push(...answer.body.readings.map((r) => `${r.time} ${r.device ?? answer.body.device} ${r.metric} ${r.value}`));
        cursor = answer.body.nextCursor;
        if (cursor === null) break;
      }
      expect(got).toEqual(want);
    }
  });

  it('takes from and to relative to now', async () => {
    const now = Date.now();
    const near = [now - 30 * MIN, now - 3 * HOUR].map((time, i) => ({ time: new Date(time), deviceNum: nums.get('d-b')!, metricNum: pm25, value: i, qualityCode: 0, sourceQuality: undefined }));
    await insertReadings(db, near);
    const answer = await api<Raw>(base, 'GET', '/api/v1/devices/d-b/readings?from=-2h&to=now&metric=pm2_5', { key });
    expect(answer.body.readings.map((r) => r.time)).toEqual([near[0]!.time.toISOString()]);
  });

  it('exports the same data as CSV when asked with Accept: text/csv', async () => {
    const route = '/api/v1/devices/d-a/readings?from=2026-08-01T00:00:00Z&to=2026-08-01T00:02:00Z';
    const response = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${key}`, accept: 'text/csv' } });
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    // Rows go by (time, metric number), as the JSON answer does.
    const metrics = pm25 < pm10 ? ['pm2_5', 'pm10'] : ['pm10', 'pm2_5'];
    const rows = [0, 1].flatMap((minute) => metrics.map((metric) => `2026-08-01T00:0${minute}:00.000Z,d-a,${metric},${minute},ug/m3,good`));
    expect(await response.text()).toBe(['time,device,metric,value,unit,quality', ...rows].join('\r\n') + '\r\n');
    const bucketed = await fetch(`${base}/api/v1/readings?device=d-a&metric=pm10&from=2026-08-01T00:00:00Z&to=2026-08-01T01:00:00Z&bucket=1h&agg=sum,count`, { headers: { authorization: `Bearer ${key}`, accept: 'text/csv' } });
    expect(bucketed.headers.get('x-source')).toBe('rollup_1h');
    expect(await bucketed.text()).toBe('time,device,metric,unit,sum,count\r\n2026-08-01T00:00:00.000Z,d-a,pm10,ug/m3,10,5\r\n');
  });

  it.each([
    ['/api/v1/devices/d-a/readings?bucket=7x', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=P1M1D', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=PT0S', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=0h', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=1y', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=1h&agg=median', 'agg'],
    ['/api/v1/devices/d-a/readings?agg=avg', 'agg'],
    ['/api/v1/devices/d-a/readings?bucket=1d&tz=Mars/Olympus', 'tz'],
    ['/api/v1/devices/d-a/readings?bucket=1h&cursor=eyJ0IjowLCJtIjoxfQ', 'cursor'],
    ['/api/v1/devices/d-a/readings?from=-24x', 'from'],
    ['/api/v1/devices/d-a/readings?to=-1000000000d', 'to'],
    ['/api/v1/devices/d-a/readings?order=sideways', 'order'],
    ['/api/v1/devices/d-a/readings?fill=zero&bucket=1h', 'fill'],
    ['/api/v1/devices/d-a/readings?bucket=1m&from=-30d', 'bucket'],
    ['/api/v1/devices/d-a/readings?bucket=1d&from=2000-01-01T00:00:00Z', 'from'],
    ['/api/v1/readings', 'device'],
    ['/api/v1/readings?device=d-a,nope', 'device'],
    ['/api/v1/readings?device=d-a;DROP', 'device'],
    ['/api/v1/readings?device=d-a&metric=nope', 'metric'],
  ])('GET %s is a 400 naming %s', async (route, name) => {
    const answer = await api<{ errors: { in: string; name: string; message: string }[] }>(base, 'GET', route, { key });
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body.errors).toContainEqual(expect.objectContaining({ in: 'query', name }));
  });

  it('states the range × resolution limit in the problem', async () => {
    const answer = await api<{ detail: string }>(base, 'GET', '/api/v1/devices/d-a/readings?bucket=1m&from=-30d', { key });
    expect(answer.body.detail).toBe('bucket: PT1M over this range is 43200 buckets per series; the limit is 10000: use a wider bucket or a shorter range');
  });
});
