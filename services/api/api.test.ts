import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { Database } from '../../storage/database.js';
import { loadMetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';
import { api } from '../../test/support/api-client.js';
import { createRoleGuard } from './authenticate.js';
import { createApi, type Api } from './create-api.js';

const ADMIN = `admin-${randomUUID()}`;

describe('HTTP API: authorisation, validation and problem documents', () => {
  let db: Database;
  let server: Api;
  let base: string;
  let readerKey: string;
  let redisHealthy = true;

  beforeAll(async () => {
    db = await createPgliteDatabase({ dataDir: undefined });
    await migrate(db);
    const dictionary = await loadMetricDictionary(db, [...METRIC_CATALOGUE.keys()]);
    server = await createApi({ host: '127.0.0.1', port: 0, bodyLimitBytes: 4096 }, {
      db, dictionary, catalogue: METRIC_CATALOGUE, maxReadings: 500,
      requireRole: createRoleGuard({ db, bootstrapAdminKey: ADMIN }),
      mqtt: { port: 1883, wsPort: undefined },
      readiness: [
        { name: 'database', check: async () => void (await db.query('SELECT 1')) },
        { name: 'redis', check: async () => { if (!redisHealthy) throw new Error('connection refused'); } },
      ],
    });
    base = `http://127.0.0.1:${server.port}`;
    const created = await api<{ key: string; role: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'dashboard' } });
    expect(created.status).toBe(201);
    readerKey = created.body.key;
    const device = await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: { id: 'st-1', domain: 'environment', name: 'Station 1' } });
    expect(device.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  const routes: [method: string, route: string, body: unknown, role: 'reader' | 'admin'][] = [
    ['POST', '/api/v1/devices', { id: `new-${randomUUID().slice(0, 6)}`, domain: 'grid', name: 'x' }, 'admin'],
    ['GET', '/api/v1/devices', undefined, 'reader'],
    ['GET', '/api/v1/devices/st-1', undefined, 'reader'],
    ['GET', '/api/v1/devices/st-1/readings', undefined, 'reader'],
    ['GET', '/api/v1/devices/st-1/latest', undefined, 'reader'],
    ['GET', '/api/v1/metrics', undefined, 'reader'],
    ['GET', '/api/v1/quarantine', undefined, 'admin'],
    ['POST', '/api/v1/api-keys', { role: 'reader', name: 'x' }, 'admin'],
  ];

  describe.each(routes)('%s %s', (method, route, body, role) => {
    it('answers 401 problem+json without a key, and with an unknown or malformed one', async () => {
      for (const key of [undefined, 'usk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'garbage', `${ADMIN}x`]) {
        const answer = await api(base, method, route, { key, body });
        expect(answer.status).toBe(401);
        expect(answer.contentType).toBe('application/problem+json; charset=utf-8');
        expect(answer.body).toMatchObject({ type: '/problems/unauthorized', status: 401 });
      }
    });

    it(`needs the ${role} role`, async () => {
      const asReader = await api(base, method, route, { key: readerKey, body });
      expect(asReader.status).toBe(role === 'reader' ? (method === 'POST' ? 201 : 200) : 403);
      if (role === 'admin') expect(asReader.body).toMatchObject({ type: '/problems/forbidden', detail: 'this route needs the admin role; the key has reader' });
      const asAdmin = await api(base, method, route, { key: ADMIN, body: method === 'POST' && route.endsWith('devices') ? { ...(body as object), id: `a-${randomUUID().slice(0, 6)}` } : body });
      expect(asAdmin.status).toBe(method === 'POST' ? 201 : 200);
    });
  });

  it.each([
    ['/api/v1/devices/st-1/readings?from=yesterday', 'query', 'from'],
    ['/api/v1/devices/st-1/readings?to=2026-11-21T08:00:00', 'query', 'to'],
    ['/api/v1/devices/st-1/readings?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z', 'query', 'from'],
    ['/api/v1/devices/st-1/readings?limit=-1', 'query', 'limit'],
    ['/api/v1/devices/st-1/readings?limit=501', 'query', 'limit'],
    ['/api/v1/devices/st-1/readings?limit=abc', 'query', 'limit'],
    ['/api/v1/devices/st-1/readings?metric=pm2_5,DROP%20TABLE%20readings', 'query', 'metric'],
    ['/api/v1/devices/st-1/readings?cursor=bm90LWEtY3Vyc29y', 'query', 'cursor'],
    ['/api/v1/devices/st-1/readings?colour=red', 'query', 'colour'],
    ['/api/v1/devices/st-1/readings?from=' + 'x'.repeat(100), 'query', 'from'],
    ["/api/v1/devices/st-1';DROP/readings", 'path', 'id'],
    ['/api/v1/devices?limit=0', 'query', 'limit'],
    ['/api/v1/devices?domain=space', 'query', 'domain'],
  ])('GET %s is a 400 naming the %s parameter %s', async (route, where, name) => {
    const answer = await api<{ errors: { in: string; name: string }[]; detail: string }>(base, 'GET', route, { key: readerKey });
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body.errors).toContainEqual(expect.objectContaining({ in: where, name }));
  });

  it.each([
    [{ id: 'ok-1', domain: 'grid' }, 'name'],
    [{ id: 'bad/id', domain: 'grid', name: 'x' }, 'id'],
    [{ id: 'x'.repeat(65), domain: 'grid', name: 'x' }, 'id'],
    [{ id: 'ok-2', domain: 'grid', name: 'x', secret_hash: 'mine' }, 'secret_hash'],
    [{ id: 'ok-3', domain: 'transport', name: 'x' }, 'domain'],
    [[1, 2], '(root)'],
    [{ id: 'ok-4', domain: 'grid', name: 'nul\u0000byte' }, 'name'],
    [{ id: 'ok-5', domain: 'grid', name: 'line\nbreak' }, 'name'],
  ])('POST /api/v1/devices with %j is a 400 naming %s', async (body, name) => {
    const answer = await api<{ errors: { name: string }[] }>(base, 'POST', '/api/v1/devices', { key: ADMIN, body });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error) => error.name)).toContain(name);
  });

  it('refuses a duplicate device id with 409, malformed JSON with 400, a large body with 413, and text with 415', async () => {
    expect((await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: { id: 'st-1', domain: 'grid', name: 'again' } })).status).toBe(409);
    expect((await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: '{"id": "x",' })).status).toBe(400);
    const big = await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: { id: 'big', domain: 'grid', name: 'x'.repeat(5000) } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ type: '/problems/payload_too_large' });
    const text = await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: 'id=x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it('answers unknown devices and routes with 404 problem documents', async () => {
    for (const route of ['/api/v1/devices/nope', '/api/v1/devices/nope/readings', '/api/v1/devices/nope/latest', '/api/v1/nothing']) {
      const answer = await api(base, 'GET', route, { key: readerKey });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ type: '/problems/not_found', status: 404 });
    }
  });

  it('never returns the device secret again after registration', async () => {
    const device = await api<Record<string, unknown>>(base, 'GET', '/api/v1/devices/st-1', { key: ADMIN });
    expect(Object.keys(device.body).sort()).toEqual(['createdAt', 'disabled', 'domain', 'id', 'name', 'online', 'parent', 'profile', 'updatedAt']);
  });

  it('reports readiness per dependency, and 503 when one fails', async () => {
    expect((await api(base, 'GET', '/readyz')).status).toBe(200);
    redisHealthy = false;
    const failing = await api<{ checks: Record<string, { status: string; error?: string }> }>(base, 'GET', '/readyz');
    redisHealthy = true;
    expect(failing.status).toBe(503);
    expect(failing.body.checks).toEqual({ database: { status: 'ok' }, redis: { status: 'failing', error: 'connection refused' } });
  });

  it('explains each problem type at its URI', async () => {
    const response = await fetch(`${base}/problems/forbidden`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("forbidden: The API key's role may not use this route.\n");
  });
});
