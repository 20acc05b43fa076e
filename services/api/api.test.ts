import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/database.js';
import { api } from '../../test/support/api-client.js';
import { type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

const ADMIN = `admin-${randomUUID()}`;

describe('HTTP API: authorisation, validation and problem documents', () => {
  let db: Database;
  let server: Api;
  let base: string;
  let readerKey: string;
  let redisHealthy = true;

  beforeAll(async () => {
    ({ db, server, base } = await startTestApi({
      adminKey: ADMIN,
      http: { bodyLimitBytes: 4096 },
      context: (database) => ({
        readiness: [
          { name: 'database', check: async () => void (await database.query('SELECT 1')) },
          { name: 'redis', check: async () => { if (!redisHealthy) throw new Error('connection refused'); } },
        ],
      }),
    }));
    const created = await api<{ key: string; role: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'dashboard' } });
    expect(created.status).toBe(201);
    readerKey = created.body.key;
    keys.reader = readerKey;
    for (const role of ['operator', 'admin'] as const) {
      keys[role] = (await api<{ key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role, name: role } })).body.key;
    }
    const device = await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: { id: 'st-1', domain: 'environment', name: 'Station 1' } });
    expect(device.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  type Role = 'reader' | 'operator' | 'admin';
  /** Every route, the least role it needs and its success status; routes and bodies are made per call, so destructive ones get their own targets. */
  const routes: [method: string, route: string, role: Role, ok: number, target?: () => Promise<{ route?: string; body?: unknown }>][] = [
    ['POST', '/api/v1/devices', 'admin', 201, async () => ({ body: { id: `new-${randomUUID().slice(0, 8)}`, domain: 'grid', name: 'x' } })],
    ['GET', '/api/v1/devices', 'reader', 200],
    ['GET', '/api/v1/devices/st-1', 'reader', 200],
    ['PATCH', '/api/v1/devices/st-1', 'operator', 200, async () => ({ body: { name: 'Station 1', district: 'Heping' } })],
    ['DELETE', '/api/v1/devices/:id', 'admin', 204, async () => {
      const id = `del-${randomUUID().slice(0, 8)}`;
      await api(base, 'POST', '/api/v1/devices', { key: ADMIN, body: { id, domain: 'grid', name: 'to delete' } });
      return { route: `/api/v1/devices/${id}` };
    }],
    ['POST', '/api/v1/devices/st-1/secret', 'admin', 200],
    ['GET', '/api/v1/latest', 'reader', 200],
    // No Redis given here: past authorisation the stream answers 503 (services/api/stream-api.test.ts streams for real).
    ['GET', '/api/v1/stream', 'reader', 503],
    ['GET', '/api/v1/devices/st-1/readings', 'reader', 200],
    ['GET', '/api/v1/readings?device=st-1', 'reader', 200],
    ['GET', '/api/v1/devices/st-1/latest', 'reader', 200],
    ['GET', '/api/v1/metrics', 'reader', 200],
    ['GET', '/api/v1/quarantine', 'admin', 200],
    ['POST', '/api/v1/api-keys', 'admin', 201, async () => ({ body: { role: 'reader', name: 'x' } })],
    ['GET', '/api/v1/api-keys', 'admin', 200],
    ['DELETE', '/api/v1/api-keys/:id', 'admin', 204, async () => {
      const made = await api<{ id: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'to revoke' } });
      return { route: `/api/v1/api-keys/${made.body.id}` };
    }],
  ];
  const ROLES: Role[] = ['reader', 'operator', 'admin'];
  const keys: Partial<Record<Role, string>> = {};

  describe.each(routes)('%s %s', (method, route, role, ok, target) => {
    const call = async (key: string | undefined) => {
      const made = (await target?.()) ?? {};
      return api(base, method, made.route ?? route.replace(':id', route.includes('api-keys') ? '0123456789abcdef' : 'st-1'), { key, body: made.body });
    };

    it('answers 401 problem+json without a key, and with an unknown or malformed one', async () => {
      for (const key of [undefined, 'usk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'garbage', `${ADMIN}x`]) {
        const answer = await call(key);
        expect(answer.status).toBe(401);
        expect(answer.contentType).toBe('application/problem+json; charset=utf-8');
        expect(answer.body).toMatchObject({ type: '/problems/unauthorized', status: 401 });
      }
    });

    it.each(ROLES)(`with a %s key: allowed only if the role includes ${role}`, async (held) => {
      const answer = await call(keys[held]);
      if (ROLES.indexOf(held) >= ROLES.indexOf(role)) {
        expect(answer.status).toBe(ok);
      } else {
        expect(answer.status).toBe(403);
        expect(answer.body).toMatchObject({ type: '/problems/forbidden', detail: `this route needs the ${role} role; the key has ${held}` });
      }
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
    ['/api/v1/api-keys?after=xyz', 'query', 'after'],
    ['/api/v1/latest?bbox=1,2,3', 'query', 'bbox'],
    ['/api/v1/latest?bbox=117,39,118,91', 'query', 'bbox'],
    ['/api/v1/latest?bbox=118,39,117,40', 'query', 'bbox'],
    ['/api/v1/latest?domain=space', 'query', 'domain'],
    ['/api/v1/latest?metric=nope', 'query', 'metric'],
    ['/api/v1/latest?limit=0', 'query', 'limit'],
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

  it('lists keys without their hashes, and a revoked key stops working at once', async () => {
    const made = await api<{ id: string; key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'operator', name: 'grafana' } });
    expect((await api(base, 'GET', '/api/v1/devices', { key: made.body.key })).status).toBe(200);
    const listed = await api<{ keys: Record<string, unknown>[] }>(base, 'GET', '/api/v1/api-keys?limit=1000', { key: ADMIN });
    expect(listed.body.keys).toContainEqual({ id: made.body.id, role: 'operator', name: 'grafana', createdAt: expect.any(String), revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toMatch(/secret|hash|usk_/i);
    expect((await api(base, 'DELETE', `/api/v1/api-keys/${made.body.id}`, { key: ADMIN })).status).toBe(204);
    expect((await api(base, 'GET', '/api/v1/devices', { key: made.body.key })).status).toBe(401);
    expect((await api(base, 'DELETE', `/api/v1/api-keys/${made.body.id}`, { key: ADMIN })).status).toBe(404);
    expect((await api(base, 'DELETE', '/api/v1/api-keys/not-a-key', { key: ADMIN })).status).toBe(400);
    const withRevoked = await api<{ keys: { id: string; revokedAt: string | null }[] }>(base, 'GET', '/api/v1/api-keys?revoked=true&limit=1000', { key: ADMIN });
    expect(withRevoked.body.keys.find((key) => key.id === made.body.id)?.revokedAt).toEqual(expect.any(String));
    const paged = await api<{ keys: unknown[]; nextAfter: string | null }>(base, 'GET', '/api/v1/api-keys?limit=1', { key: ADMIN });
    expect(paged.body.keys).toHaveLength(1);
    expect(paged.body.nextAfter).toEqual(expect.any(String));
  });

  it('documents every route in OpenAPI 3 at /docs/json, and the matrix above covers every documented route', async () => {
    const doc = await api<{ openapi: string; paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }>(base, 'GET', '/docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    const inMatrix = routes.map(([method, route]) => `${method} ${route.split('?')[0]!.replace(/:(\w+)/g, '{$1}').replace('/st-1', '/{id}')}`);
    for (const route of inMatrix) expect(documented).toContain(route);
    // Alerts, rules and AQI routes have their matrix in alerts-api.test.ts, which checks it covers them.
    const apiRoutes = documented.filter((route) => route.includes(' /api/') && !/ \/api\/v1\/(alerts|rules|aqi)\b/.test(route));
    for (const route of apiRoutes) expect(inMatrix).toContain(route);
    const readings = doc.body.paths['/api/v1/readings']?.get?.parameters?.map((parameter) => parameter.name);
    expect(readings).toEqual(expect.arrayContaining(['device', 'metric', 'from', 'to', 'bucket', 'agg', 'tz', 'cursor', 'order']));
    const ui = await fetch(`${base}/docs/`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
  });

  it('never returns the device secret again after registration', async () => {
    const device = await api<Record<string, unknown>>(base, 'GET', '/api/v1/devices/st-1', { key: ADMIN });
    expect(Object.keys(device.body).sort()).toEqual(['createdAt', 'disabled', 'district', 'domain', 'expectedIntervalS', 'id', 'lastSeen', 'location', 'name', 'online', 'parent', 'profile', 'updatedAt']);
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
