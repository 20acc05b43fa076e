import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAggregates } from '../../storage/aggregates-query.js';
import { resolveDeviceNums } from '../../storage/devices-store.js';
import { api, eventually, registerDevice } from '../support/api-client.js';
import { createTestDatabase } from '../support/services.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/*
 * The storage layer inside the running stack: the mode it detected is reported by
 * /readyz, the worker role runs maintenance, and a reading published over MQTT reaches
 * the hourly rollup — with embedded PGlite (TimescaleDB) and with plain PostgreSQL.
 */

describe.each([
  { name: 'embedded PGlite with TimescaleDB', mode: 'pglite-timescaledb', postgres: false },
  { name: 'PostgreSQL without TimescaleDB', mode: 'postgresql', postgres: true },
])('storage in the stack: $name', ({ mode, postgres }) => {
  let env: TestStack;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

  beforeAll(async () => {
    database = postgres ? await createTestDatabase() : undefined;
    env = await startTestStack({ env: database === undefined ? {} : { DATABASE_URL: database.url } });
  });
  afterAll(async () => {
    await env?.remove();
    await database?.drop();
  });

  it('reports the storage mode in /readyz and runs maintenance in the worker role', async () => {
    const ready = await api<{ checks: { database: Record<string, unknown> } }>(env.apiUrl, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database).toMatchObject({ status: 'ok', mode, timescale: mode !== 'postgresql' });
    expect(env.stack.maintenance?.mode).toBe(mode);
  });

  it('brings a published reading into the hourly rollup', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `st-${randomUUID().slice(0, 8)}`, domain: 'grid' });
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    for (const [minute, voltage] of [[5, 229.5], [35, 231.25], [50, 230]] as const) {
      await client.publishAsync(device.topic, JSON.stringify({ ts: new Date(hour + minute * 60_000).toISOString(), metrics: { voltage } }), { qos: 1 });
    }
    await client.endAsync();
    const deviceNum = (await resolveDeviceNums(env.stack.db, [device.id])).get(device.id)!;
    const hourly = () => queryAggregates(env.stack.db, {
      deviceNum, metricNums: undefined, from: new Date(hour), to: new Date(hour + 3_600_000), bucketMs: 3_600_000, aggs: ['count', 'avg', 'first', 'last'],
    });
    await eventually(async () => ((await hourly()).rows[0]?.count === 3 ? true : undefined), 10_000, 'the readings to be stored');
    await env.stack.maintenance!.runNow();
    const answer = await hourly();
    expect(answer.source).toBe('rollup_1h');
    expect(answer.rows.map(({ bucket, count, avg, first, last }) => ({ bucket, count, avg, first, last }))).toEqual([
      { bucket: new Date(hour), count: 3, avg: 230.25, first: 229.5, last: 230 },
    ]);
  });
});
