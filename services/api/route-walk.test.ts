import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/database.js';
import { startTestApi } from '../../test/support/test-api.js';
import type { Api } from './create-api.js';

/*
 * Walks every route the app has registered (read from Fastify itself, so a new route
 * cannot escape) with hostile requests: no key, a reader key, absurd and
 * injection-shaped parameters, unknown fields, oversized bodies. Whatever the route,
 * the answer is a problem+json with the right status, and never a 5xx.
 */

const ADMIN = `admin-${randomUUID()}`;
const BODY_LIMIT = 4096;
/** Routes anyone may call: probes, scrapes, the docs and the problem explanations. */
const PUBLIC = /^\/(healthz|readyz|metrics|docs|problems)(\/|$)/;

interface Route { method: string; path: string }

/** Every method and path Fastify routes, parsed from its route tree (`printRoutes`). */
function registeredRoutes(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (match === null) continue;
    const depth = (match[1]?.length ?? 0) / 4;
    const path = (prefixes[depth - 1] ?? '') + (match[2] ?? '');
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((name) => name.trim()).filter(Boolean)) routes.push({ method, path });
  }
  return routes;
}

/** Absurd and injection-shaped values; every parameter must either accept or name itself in a 400. */
const HOSTILE_VALUES = [
  '-1', '99999999999999999999', '1e309', 'NaN', "' OR '1'='1", '1; DROP TABLE readings;--', '\u0000', '{"$gt":""}',
  '../../etc/passwd', 'x'.repeat(5000), '9999-12-31T23:59:59Z', '-999999w',
];
const VALID_IDS: [prefix: string, id: string][] = [['/api/v1/api-keys', '0123456789abcdef'], ['/api/v1/alerts', '1']];
/** Query parameters a route requires, so that the one under test is the only bad one. */
const REQUIRED_QUERY: Record<string, Record<string, string>> = { '/api/v1/readings': { device: 'st-1' }, '/api/v1/aqi': { district: 'Hexi' } };
const HOSTILE_IDS = ["st-1';DROP TABLE devices;--", '..%2F..%2Fetc', 'x'.repeat(300), '%00', '-1', '99999999999999999999999', '%E2%80%AE'];

describe('every HTTP route, walked with hostile requests', () => {
  let db: Database;
  let server: Api;
  let base: string;
  let readerKey: string;
  let routes: Route[];
  let queryParams: Map<string, string[]>;

  beforeAll(async () => {
    ({ db, server, base } = await startTestApi({ adminKey: ADMIN, http: { bodyLimitBytes: BODY_LIMIT } }));
    readerKey = ((await call('POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'walker' } })).body as { key: string }).key;
    await call('POST', '/api/v1/devices', { key: ADMIN, body: { id: 'st-1', domain: 'environment', name: 'Station 1' } });
    routes = registeredRoutes(server.app).filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS' && !route.path.includes('*'));
    const doc = (await call('GET', '/docs/json')).body as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };
    queryParams = new Map();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const names = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
        queryParams.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, names);
      }
    }
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  async function call(method: string, url: string, options: { key?: string; body?: string | object } = {}) {
    const headers: Record<string, string> = {};
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${url}`, {
      method, headers, ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    return { status: response.status, contentType, body: contentType.includes('json') && text !== '' ? (JSON.parse(text) as unknown) : text };
  }

  /** The path with a well-formed id (of a resource that may not exist), or with `id` when given. */
  const concrete = (path: string, id?: string) => path.replace(/:id\b/g, id ?? VALID_IDS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'st-1').replace(/:code\b/, 'forbidden');
  const apiRoutes = () => routes.filter((route) => !PUBLIC.test(route.path));
  const bodyOf = (method: string) => (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);

  /** 503 "unavailable" is allowed: the test API runs without Redis, so the live stream is unavailable. */
  function expectNo5xx(answer: { status: number; body: unknown }, where: string): void {
    if (answer.status === 503) expect(answer.body, where).toMatchObject({ type: '/problems/unavailable' });
    else expect(answer.status, where).toBeLessThan(500);
  }

  function expectProblem(answer: { status: number; contentType: string; body: unknown }, status: number, where: string): void {
    expect(answer.status, where).toBe(status);
    expect(answer.contentType, where).toContain('application/problem+json');
    expect(answer.body, where).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//) });
  }

  it('finds the routes in the app, all of them documented in OpenAPI', () => {
    expect(apiRoutes().length).toBeGreaterThan(20);
    expect(routes).toContainEqual({ method: 'DELETE', path: '/api/v1/api-keys/:id' });
    for (const route of apiRoutes()) expect(queryParams.has(`${route.method} ${route.path}`), `${route.method} ${route.path} in /docs/json`).toBe(true);
  });

  it('answers 401 problem+json on every API route without a key, with a bad key, and before looking at parameters or bodies', async () => {
    for (const { method, path } of apiRoutes()) {
      for (const key of [undefined, 'usk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer', `${ADMIN}x`]) {
        expectProblem(await call(method, concrete(path), { key, body: bodyOf(method) }), 401, `${method} ${path} with key ${String(key)}`);
      }
      // Invalid parameters and an unknown field: still 401, so a caller without a key learns nothing about them.
      expectProblem(await call(method, `${concrete(path, HOSTILE_IDS[0])}?limit=-1&colour=red`, { body: bodyOf(method) && { unknown: true } }), 401, `${method} ${path} with bad parameters`);
    }
  });

  it('answers a reader key on admin and operator routes with 403 problem+json, and never with a 5xx', async () => {
    const forbidden: string[] = [];
    for (const { method, path } of apiRoutes()) {
      const answer = await call(method, concrete(path), { key: readerKey, body: bodyOf(method) });
      expectNo5xx(answer, `${method} ${path}`);
      if (answer.status === 403) {
        expectProblem(answer, 403, `${method} ${path}`);
        forbidden.push(`${method} ${path}`);
      }
    }
    // Writes and the admin-only reads are refused to a reader (api.test.ts checks each route's exact role).
    expect(forbidden).toEqual(expect.arrayContaining(['GET /api/v1/api-keys', 'GET /api/v1/quarantine', 'DELETE /api/v1/devices/:id', 'POST /api/v1/devices/:id/secret']));
  });

  it('answers absurd, injection-shaped and unknown query parameters with 200 or a 400 naming the parameter, never a 5xx', async () => {
    for (const { method, path } of apiRoutes().filter((route) => route.method === 'GET' && route.path !== '/api/v1/stream')) {
      const names = [...(queryParams.get(`${method} ${path}`) ?? []), 'colour'];
      for (const name of names) {
        for (const value of HOSTILE_VALUES) {
          const url = `${concrete(path)}?${new URLSearchParams({ ...REQUIRED_QUERY[path], [name]: value }).toString()}`;
          const answer = await call(method, url, { key: ADMIN });
          const where = `${method} ${url.slice(0, 120)}`;
          expect([200, 400, 404], where).toContain(answer.status);
          if (answer.status === 400) {
            expectProblem(answer, 400, where);
            expect((answer.body as { errors?: { name: string }[] }).errors?.map((error) => error.name), where).toContain(name);
          }
        }
      }
      expectProblem(await call(method, `${concrete(path)}?colour=red`, { key: ADMIN }), 400, `${method} ${path}?colour=red`);
    }
  });

  it('answers hostile path ids with 400 naming the id or 404, never a 5xx', async () => {
    for (const { method, path } of apiRoutes().filter((route) => route.path.includes(':id'))) {
      for (const id of HOSTILE_IDS) {
        const answer = await call(method, concrete(path, id), { key: ADMIN, body: bodyOf(method) });
        const where = `${method} ${concrete(path, id).slice(0, 120)}`;
        // 414: longer than the router's path parameter limit.
        expect([400, 404, 414], where).toContain(answer.status);
        expect(answer.contentType, where).toContain('application/problem+json');
      }
    }
  });

  it('answers oversized, malformed and non-JSON bodies on every route that takes one with 413, 400 and 415', async () => {
    const writes = apiRoutes().filter((route) => ['POST', 'PUT', 'PATCH'].includes(route.method));
    expect(writes.length).toBeGreaterThan(5);
    for (const { method, path } of writes) {
      const where = `${method} ${path}`;
      expectProblem(await call(method, concrete(path), { key: ADMIN, body: { padding: 'x'.repeat(BODY_LIMIT * 2) } }), 413, where);
      expectProblem(await call(method, concrete(path), { key: ADMIN, body: '{"unterminated": ' }), 400, where);
      const text = await fetch(`${base}${concrete(path)}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/plain' }, body: 'x=1' });
      expect(text.status, where).toBe(415);
    }
  });

  it('answers huge time ranges and invalid cursors on the readings routes with 400 naming them', async () => {
    const cases: [query: string, name: string][] = [
      ['from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z&bucket=1s', 'bucket'],
      ['from=-999999w', 'from'],
      ['cursor=eyJ0Ijo5OTk5OTk5OTk5OTk5OTk5OTksIm0iOjF9', 'cursor'],
      ['cursor=%00%00', 'cursor'],
      ['limit=-5', 'limit'],
      ['agg=avg;DROP', 'agg'],
      ['tz=Mars/Olympus', 'tz'],
    ];
    for (const route of ['/api/v1/devices/st-1/readings', '/api/v1/readings?device=st-1']) {
      for (const [query, name] of cases) {
        const url = `${route}${route.includes('?') ? '&' : '?'}${query}`;
        const answer = await call('GET', url, { key: readerKey });
        expectProblem(answer, 400, url);
        expect((answer.body as { errors: { name: string }[] }).errors.map((error) => error.name), url).toContain(name);
      }
    }
  });
});
