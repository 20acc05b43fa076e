import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../storage/alerts-store.js';
import { eventually } from '../../test/support/api-client.js';
import { testRedisUrl } from '../../test/support/services.js';
import { createAlertWebhooks, SIGNATURE_HEADER, signWebhook, verifyWebhook } from './alert-webhooks.js';

const SECRET = 'webhook-secret-0123456789';

function alert(id: string): Alert {
  return {
    id, ruleId: 'gas-lel-critical', deviceId: 'gas-1', metric: 'gas_lel', severity: 'critical', domain: 'safety', district: 'futian', state: 'open',
    openedAt: new Date('2026-11-21T08:00:00Z'), openValue: 55, acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined,
    clearedAt: undefined, clearedBy: undefined, clearValue: undefined,
  };
}

describe('alert webhooks', () => {
  let server: Server;
  let url: string;
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  /** Status to answer per path, in order; then 200. */
  const script = new Map<string, number[]>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
      request.on('end', () => {
        const path = request.url ?? '/';
        received.push({ path, headers: request.headers, body });
        response.statusCode = script.get(path)?.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs the body with a timestamped HMAC that a receiver can verify, and refuses tampering and old signatures', () => {
    const body = '{"id":"1:opened"}';
    const header = signWebhook(SECRET, 1_800_000_000, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, header, body, 1_800_000_010)).toBe(true);
    expect(verifyWebhook(SECRET, header, `${body} `, 1_800_000_010)).toBe(false);
    expect(verifyWebhook('another-secret-0123456789', header, body, 1_800_000_010)).toBe(false);
    expect(verifyWebhook(SECRET, header, body, 1_800_001_000)).toBe(false);
    expect(verifyWebhook(SECRET, 'garbage', body, 1_800_000_010)).toBe(false);
  });

  it('retries a failing receiver until it accepts, and gives up at once on a 4xx refusal', async () => {
    const path = `/hook-${randomUUID()}`;
    script.set(path, [503, 500]);
    const webhooks = createAlertWebhooks({ redisUrl: testRedisUrl(), prefix: `wh-${randomUUID().slice(0, 8)}`, url: `${url}${path}`, secret: SECRET, backoffMs: 50 });
    const delivered: string[] = [];
    const failed: { eventId: string | undefined; attemptsMade: number }[] = [];
    webhooks.events.on('delivered', ({ eventId }) => delivered.push(eventId));
    webhooks.events.on('failed', ({ eventId, attemptsMade }) => failed.push({ eventId, attemptsMade }));
    try {
      await webhooks.publish({ opened: [alert('41')], cleared: [] });
      await eventually(async () => (delivered.includes('41:opened') ? true : undefined), 20_000, 'delivery after two failures');
      const mine = received.filter((request) => request.path === path);
      expect(mine).toHaveLength(3);
      const last = mine[2]!;
      expect(JSON.parse(last.body)).toMatchObject({ id: '41:opened', kind: 'opened', alert: { id: '41', ruleId: 'gas-lel-critical', severity: 'critical' } });
      expect(verifyWebhook(SECRET, String(last.headers[SIGNATURE_HEADER]), last.body, Math.floor(Date.now() / 1000))).toBe(true);

      script.set(path, [400]);
      await webhooks.publish({ opened: [], cleared: [{ ...alert('42'), state: 'cleared' }] });
      await eventually(async () => (failed.some((entry) => entry.eventId === '42:cleared') ? true : undefined), 20_000, 'the refusal');
      expect(failed.find((entry) => entry.eventId === '42:cleared')?.attemptsMade).toBe(1);
    } finally {
      await webhooks.close();
    }
  });
});
