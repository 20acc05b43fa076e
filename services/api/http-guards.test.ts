import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Database } from '../../storage/database.js';
import { api } from '../../test/support/api-client.js';
import { type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

const ADMIN = `admin-${randomUUID()}`;

describe('HTTP API: per-key rate limit, CORS and /metrics', () => {
  let db: Database;
  let server: Api;
  let base: string;
  const registry = new Registry();

  beforeAll(async () => {
    ({ db, server, base } = await startTestApi({
      adminKey: ADMIN,
      http: { rateLimitPerMinute: 5, corsOrigins: ['https://dash.example.org'], metrics: registry },
    }));
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('limits each API key on its own, answering 429 problem+json with retry-after, and never limits /healthz or /metrics', async () => {
    const make = async () => (await api<{ key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'reader', name: 'x' } })).body.key;
    const [first, second] = [await make(), await make()];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api(base, 'GET', '/api/v1/metrics', { key: first })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await fetch(`${base}/api/v1/metrics`, { headers: { authorization: `Bearer ${first}` } });
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ type: '/problems/too_many_requests', status: 429 });
    expect((await api(base, 'GET', '/api/v1/metrics', { key: second })).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await fetch(`${base}/healthz`)).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('answers CORS for the configured origin only', async () => {
    const preflight = (origin: string) => fetch(`${base}/api/v1/devices`, {
      method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    const allowed = await preflight('https://dash.example.org');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.org');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exports API latency by route pattern at /metrics, in Prometheus text format', async () => {
    await api(base, 'GET', '/api/v1/devices/some-device', { key: ADMIN });
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/urbansense_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/devices\/:id",status_code="404"\} 1/);
    expect(text).not.toContain('some-device');
    expect(text).not.toContain(ADMIN);
  });
});
