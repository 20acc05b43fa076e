import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../../contracts/reading.js';
import { evaluateAlertRules } from '../alerts/evaluate-batch.js';
import { insertRule } from '../../storage/alert-rules-store.js';
import type { Database } from '../../storage/database.js';
import { insertDevice, resolveDeviceNums } from '../../storage/devices-store.js';
import { type MetricDictionary } from '../../storage/metric-dictionary.js';
import { insertReadings, type StoredReading } from '../../storage/readings-store.js';
import { api } from '../../test/support/api-client.js';
import { type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

const ADMIN = `admin-${randomUUID()}`;
type Role = 'reader' | 'operator' | 'admin';
const ROLES: Role[] = ['reader', 'operator', 'admin'];
const HOUR = 3_600_000;
const REPORT_HOUR = Date.parse('2026-11-20T12:00:00Z');

describe('HTTP API: alerts, alert rules and the AQI (issue 7)', () => {
  let db: Database;
  let dictionary: MetricDictionary;
  let server: Api;
  let base: string;
  const keys: Partial<Record<Role, string>> = {};

  const gasDevice = `gas-${randomUUID().slice(0, 8)}`;
  const gasRule = {
    id: 'api-gas', name: 'gas', scope: { metric: 'gas_lel', deviceId: gasDevice }, condition: { type: 'above', trigger: 20, clear: 15 },
    severity: 'critical', source: 'test',
  };
  const gas = (seconds: number, value: number): CanonicalReading => ({ time: new Date(Date.UTC(2026, 10, 21, 8) + seconds * 1000), deviceId: gasDevice, metric: 'gas_lel', value, quality: 'good' });
  const evaluate = (readings: CanonicalReading[]) => db.transaction((tx) => evaluateAlertRules(tx, readings));

  beforeAll(async () => {
    ({ db, dictionary, server, base } = await startTestApi({ adminKey: ADMIN }));
    for (const role of ROLES) keys[role] = (await api<{ key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role, name: role } })).body.key;
    await insertDevice(db, { id: gasDevice, domain: 'safety', name: 'gas', secretHash: 'x' });
    await db.query(`UPDATE devices SET district = 'futian' WHERE id = $1`, [gasDevice]);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  /** Source time only moves forward for a series (late readings are ignored), so tests share one clock. */
  let clockSeconds = 10_000_000;
  const tick = () => (clockSeconds += 10);

  async function openGasAlert(): Promise<string> {
    // A reading below the clear level first: a by-hand clear leaves the condition firing.
    await evaluate([gas(tick(), 0)]);
    const { opened } = await evaluate([gas(tick(), 60)]);
    if (opened[0] === undefined) throw new Error('no alert opened');
    return opened[0].id;
  }

  it('manages rules: create, 409 on a taken id, 400 naming what is wrong, read, replace, delete', async () => {
    const created = await api<Record<string, unknown>>(base, 'POST', '/api/v1/rules', { key: keys.admin, body: gasRule });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...gasRule, forSeconds: 0, enabled: true, builtin: false });
    expect((await api(base, 'POST', '/api/v1/rules', { key: keys.admin, body: gasRule })).status).toBe(409);
    const bad = await api<{ type: string; errors: { message: string }[] }>(base, 'POST', '/api/v1/rules', {
      key: keys.admin, body: { ...gasRule, id: 'x-2', scope: { metric: 'no_such_metric' }, condition: { type: 'above', trigger: 20, clear: 30 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('/problems/bad_request');
    expect(bad.body.errors.map((error) => error.message)).toEqual(expect.arrayContaining([expect.stringContaining('no_such_metric'), expect.stringContaining('clear must be')]));
    expect((await api<{ rules: { id: string }[] }>(base, 'GET', '/api/v1/rules', { key: keys.reader })).body.rules.map((rule) => rule.id)).toContain('api-gas');
    const tmp = { ...gasRule, id: 'api-tmp' };
    expect((await api(base, 'POST', '/api/v1/rules', { key: keys.admin, body: tmp })).status).toBe(201);
    expect((await api<{ severity: string }>(base, 'PUT', '/api/v1/rules/api-tmp', { key: keys.admin, body: { ...tmp, severity: 'info' } })).body.severity).toBe('info');
    expect((await api(base, 'PUT', '/api/v1/rules/api-tmp', { key: keys.admin, body: { ...tmp, id: 'other' } })).status).toBe(400);
    expect((await api(base, 'PUT', '/api/v1/rules/none', { key: keys.admin, body: { ...tmp, id: undefined } })).status).toBe(404);
    expect((await api(base, 'DELETE', '/api/v1/rules/api-tmp', { key: keys.admin })).status).toBe(204);
    expect((await api(base, 'GET', '/api/v1/rules/api-tmp', { key: keys.reader })).status).toBe(404);
  });

  it('lists alerts with filters and a cursor, acknowledges with a note and clears, with 404 and 409 as problems', async () => {
    const id = await openGasAlert();
    const listed = await api<{ alerts: Record<string, unknown>[]; nextCursor: string | null }>(base, 'GET', '/api/v1/alerts?state=open&severity=critical,warning&district=futian&domain=safety', { key: keys.reader });
    expect(listed.status).toBe(200);
    expect(listed.body.alerts).toContainEqual(expect.objectContaining({ id, rule: 'api-gas', device: gasDevice, state: 'open', severity: 'critical', district: 'futian', openValue: 60 }));
    expect((await api<{ alerts: unknown[] }>(base, 'GET', '/api/v1/alerts?district=nanshan', { key: keys.reader })).body.alerts).toEqual([]);

    const acked = await api<Record<string, unknown>>(base, 'POST', `/api/v1/alerts/${id}/ack`, { key: keys.operator, body: { note: 'crew on the way' } });
    expect(acked.body).toMatchObject({ state: 'acknowledged', note: 'crew on the way', acknowledgedAt: expect.any(String) });
    const again = await api(base, 'POST', `/api/v1/alerts/${id}/ack`, { key: keys.operator, body: { note: 'again' } });
    expect(again.status).toBe(409);
    expect(again.contentType).toContain('application/problem+json');
    expect((await api(base, 'POST', `/api/v1/alerts/${id}/ack`, { key: keys.operator, body: {} })).status).toBe(400);
    expect((await api(base, 'POST', '/api/v1/alerts/999999/ack', { key: keys.operator, body: { note: 'x' } })).status).toBe(404);
    expect((await api<{ state: string }>(base, 'POST', `/api/v1/alerts/${id}/clear`, { key: keys.operator, body: {} })).body.state).toBe('cleared');
    expect((await api(base, 'POST', `/api/v1/alerts/${id}/clear`, { key: keys.operator, body: {} })).status).toBe(409);

    // Condition clears, then three more alerts: pages of two cover all, newest first, without repeats.
    await evaluate([gas(tick(), 0)]);
    for (let i = 0; i < 3; i += 1) {
      await evaluate([gas(tick(), 60)]);
      await evaluate([gas(tick(), 0)]);
    }
    const all = (await api<{ alerts: { id: string }[] }>(base, 'GET', `/api/v1/alerts?device=${gasDevice}`, { key: keys.reader })).body.alerts.map((a) => a.id);
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { alerts: { id: string }[]; nextCursor: string | null } } = await api(base, 'GET', `/api/v1/alerts?device=${gasDevice}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, { key: keys.reader });
      pages.push(...page.body.alerts.map((a) => a.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect((await api(base, 'GET', '/api/v1/alerts?cursor=bm9wZQ', { key: keys.reader })).status).toBe(400);
    expect((await api(base, 'GET', '/api/v1/alerts?state=closed', { key: keys.reader })).status).toBe(400);
  });

  it('computes the HJ 633 AQI per station and per district from the hourly rollups', async () => {
    const district = `d-${randomUUID().slice(0, 6)}`;
    const [s1, s2] = [`aq1-${randomUUID().slice(0, 6)}`, `aq2-${randomUUID().slice(0, 6)}`];
    for (const id of [s1, s2]) {
      await insertDevice(db, { id, domain: 'environment', name: id, secretHash: 'x' });
      await db.query('UPDATE devices SET district = $2 WHERE id = $1', [id, district]);
    }
    const nums = await resolveDeviceNums(db, [s1, s2]);
    const pm25 = dictionary.numOf('pm2_5')!;
    const no2 = dictionary.numOf('no2')!;
    const rows: StoredReading[] = [];
    for (let k = 0; k < 24; k += 1) {
      const time = new Date(REPORT_HOUR - k * HOUR + 30 * 60_000);
      rows.push({ time, deviceNum: nums.get(s1)!, metricNum: pm25, value: 80, qualityCode: 0, sourceQuality: undefined });
      rows.push({ time, deviceNum: nums.get(s2)!, metricNum: pm25, value: 100, qualityCode: 0, sourceQuality: undefined });
    }
    rows.push({ time: new Date(REPORT_HOUR + 10 * 60_000), deviceNum: nums.get(s1)!, metricNum: no2, value: 150, qualityCode: 0, sourceQuality: undefined });
    await insertReadings(db, rows);
    const at = new Date(REPORT_HOUR + 20 * 60_000).toISOString();

    // Station 1: PM2.5 80 → 50/40 × 5 + 100 = 106.25 → 107; NO2 1-h 150 → 75.
    const station = await api<Record<string, unknown>>(base, 'GET', `/api/v1/aqi/stations/${s1}?at=${at}`, { key: keys.reader });
    expect(station.body).toMatchObject({ station: s1, district, hour: '2026-11-20T12:00:00.000Z', aqi: 107, primaryPollutants: ['pm2_5_24h'], inputs: { pm2_5_24h: 80, no2_1h: 150 } });
    expect(station.body.category).toMatchObject({ level: 3, colour: 'orange' });
    // District: mean PM2.5 (80 + 100) / 2 = 90 → 50/40 × 15 + 100 = 118.75 → 119; station 2 alone: 100 → 131.25 → 132.
    const area = await api<{ aqi: number; primaryPollutants: string[]; stations: { station: string; aqi: number }[] }>(base, 'GET', `/api/v1/aqi?district=${district}&at=${at}`, { key: keys.reader });
    expect(area.body.aqi).toBe(119);
    expect(area.body.primaryPollutants).toEqual(['pm2_5_24h']);
    expect(area.body.stations.map((entry) => [entry.station, entry.aqi])).toEqual([[s1, 107], [s2, 132]]);
    expect((await api(base, 'GET', '/api/v1/aqi', { key: keys.reader })).status).toBe(400);
    expect((await api(base, 'GET', `/api/v1/aqi/stations/${gasDevice}`, { key: keys.reader })).status).toBe(404);
    expect((await api<{ aqi: null }>(base, 'GET', '/api/v1/aqi?district=nowhere', { key: keys.reader })).body.aqi).toBeNull();
  });

  it("opens an alert on a station's hourly AQI once the hour is complete, from the same rollups, once per hour", async () => {
    const [station, sparse] = [`aq3-${randomUUID().slice(0, 6)}`, `aq4-${randomUUID().slice(0, 6)}`];
    for (const id of [station, sparse]) await insertDevice(db, { id, domain: 'environment', name: id, secretHash: 'x' });
    const nums = await resolveDeviceNums(db, [station, sparse]);
    const pm25 = dictionary.numOf('pm2_5')!;
    const rows: StoredReading[] = [];
    for (let k = 0; k < 24; k += 1) {
      const time = new Date(REPORT_HOUR - k * HOUR + 30 * 60_000);
      rows.push({ time, deviceNum: nums.get(station)!, metricNum: pm25, value: 120, qualityCode: 0, sourceQuality: undefined });
      // Ten hours only: too few for a 24-hour mean (GB 3095-2012 Table 4), so no AQI.
      if (k < 10) rows.push({ time, deviceNum: nums.get(sparse)!, metricNum: pm25, value: 500, qualityCode: 0, sourceQuality: undefined });
    }
    await insertReadings(db, rows);
    const rule = { id: `aqi-${randomUUID().slice(0, 8)}`, name: 'AQI level IV', scope: { metric: 'aqi' }, condition: { type: 'above', trigger: 151, clear: 101 }, severity: 'warning' };
    expect((await api(base, 'POST', '/api/v1/rules', { key: keys.admin, body: rule })).status).toBe(201);
    const refused = await api<{ detail: string }>(base, 'POST', '/api/v1/rules', { key: keys.admin, body: { ...rule, id: `x-${rule.id}`, scope: { metric: 'aqi_8h' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('derived series: aqi');

    const inHour = (hourStartMs: number, minutes: number, deviceId: string): CanonicalReading => ({ time: new Date(hourStartMs + minutes * 60_000), deviceId, metric: 'pm2_5', value: 10, quality: 'good' });
    const evaluateWithAqi = (readings: CanonicalReading[]) => db.transaction((tx) => evaluateAlertRules(tx, readings, { dictionary }));
    // A reading in REPORT_HOUR completes the hour before it, whose 23 hours of PM2.5 at 120 make
    // a 24-h mean of 120 → 50/35 × 5 + 150 = 157.14 → 158 (the hour being filled is not evaluated).
    const first = await evaluateWithAqi([inHour(REPORT_HOUR, 40, station), inHour(REPORT_HOUR, 40, sparse)]);
    expect(first.opened.filter((alert) => alert.ruleId === rule.id)).toEqual([
      expect.objectContaining({ deviceId: station, metric: 'aqi', openValue: 158, openedAt: new Date(REPORT_HOUR - HOUR), state: 'open' }),
    ]);
    // Once per hour: more readings of the same hour, or the next hour still at 158, change nothing.
    expect(await evaluateWithAqi([inHour(REPORT_HOUR, 50, station)])).toEqual({ opened: [], cleared: [] });
    expect(await evaluateWithAqi([inHour(REPORT_HOUR + HOUR, 5, station)])).toEqual({ opened: [], cleared: [] });
    const listed = await api<{ alerts: { device: string; metric: string; openValue: number }[] }>(base, 'GET', `/api/v1/alerts?device=${station}`, { key: keys.reader });
    expect(listed.body.alerts).toEqual([expect.objectContaining({ device: station, metric: 'aqi', openValue: 158 })]);
  });

  /** Every alerts, rules and AQI route (as OpenAPI names it), the least role it needs and its success status. */
  const matrix: [route: string, method: string, target: () => Promise<string>, role: Role, ok: number, body?: () => unknown][] = [
    ['/api/v1/alerts', 'GET', async () => '/api/v1/alerts', 'reader', 200],
    ['/api/v1/alerts/{id}', 'GET', async () => `/api/v1/alerts/${await openGasAlert()}`, 'reader', 200],
    ['/api/v1/alerts/{id}/ack', 'POST', async () => `/api/v1/alerts/${await openGasAlert()}/ack`, 'operator', 200, () => ({ note: 'seen' })],
    ['/api/v1/alerts/{id}/clear', 'POST', async () => `/api/v1/alerts/${await openGasAlert()}/clear`, 'operator', 200, () => ({})],
    ['/api/v1/rules', 'GET', async () => '/api/v1/rules', 'reader', 200],
    ['/api/v1/rules/{id}', 'GET', async () => '/api/v1/rules/api-gas', 'reader', 200],
    ['/api/v1/rules', 'POST', async () => '/api/v1/rules', 'admin', 201, () => ({ ...gasRule, id: `r-${randomUUID()}` })],
    ['/api/v1/rules/{id}', 'PUT', async () => '/api/v1/rules/api-gas', 'admin', 200, () => gasRule],
    ['/api/v1/rules/{id}', 'DELETE', async () => { const id = `r-${randomUUID()}`; await insertRule(db, { ...gasRule, id, forSeconds: 0, enabled: true } as never); return `/api/v1/rules/${id}`; }, 'admin', 204],
    ['/api/v1/aqi', 'GET', async () => '/api/v1/aqi?district=futian', 'reader', 200],
    ['/api/v1/aqi/stations/{id}', 'GET', async () => {
      const station = `aq-${randomUUID().slice(0, 8)}`;
      await insertDevice(db, { id: station, domain: 'environment', name: 'matrix station', secretHash: 'x' });
      return `/api/v1/aqi/stations/${station}`;
    }, 'reader', 200],
  ];

  it.each(matrix)('%s (%s) needs a key and the right role', async (_route, method, target, role, ok, body) => {
    expect((await api(base, method, await target(), { body: body?.() })).status).toBe(401);
    for (const held of ROLES) {
      const answer = await api(base, method, await target(), { key: keys[held], body: body?.() });
      expect(answer.status).toBe(ROLES.indexOf(held) >= ROLES.indexOf(role) ? ok : 403);
    }
  });

  it('documents exactly the alerts, rules and AQI routes this matrix covers (the API matrix leaves them to it)', async () => {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>(base, 'GET', '/docs/json');
    const documented = Object.entries(doc.body.paths)
      .filter(([path]) => /^\/api\/v1\/(alerts|rules|aqi)\b/.test(path))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(matrix.map(([route, method]) => `${method} ${route}`).sort());
  });
});
