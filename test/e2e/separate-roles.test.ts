import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice } from '../support/api-client.js';
import { createTestDatabase } from '../support/services.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

describe('roles in separate processes, sharing PostgreSQL and Redis (the docker-compose shape)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: TestStack;
  let worker: TestStack;
  let apiNode: TestStack;

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = { DATABASE_URL: database.url };
    const queuePrefix = `roles-${randomUUID().slice(0, 8)}`;
    const adminKey = `roles-admin-${randomUUID()}`;
    // Started together: migrations run once, under the advisory lock.
    const start = (role: string) => startTestStack({ reuse: { dataDir: undefined, adminKey, queuePrefix }, env: { ...shared, ROLES: role } });
    [broker, worker, apiNode] = await Promise.all([start('broker'), start('worker'), start('api')]);
  });
  afterAll(async () => {
    for (const node of [broker, apiNode, worker]) await node?.remove();
    await database?.drop();
  });

  it('runs only the roles it is given', () => {
    expect([broker.stack.gateway !== undefined, broker.stack.worker !== undefined, broker.stack.api !== undefined]).toEqual([true, false, false]);
    expect([worker.stack.gateway !== undefined, worker.stack.worker !== undefined, worker.stack.api !== undefined]).toEqual([false, true, false]);
    expect([apiNode.stack.gateway !== undefined, apiNode.stack.worker !== undefined, apiNode.stack.api !== undefined]).toEqual([false, false, true]);
    expect(broker.stack.storage.capabilities.timescale).toBe(false);
  });

  it('carries a reading from the broker node through the worker node to the API node', async () => {
    const device = await registerDevice(apiNode.apiUrl, apiNode.adminKey, { id: `split-${randomUUID().slice(0, 8)}`, domain: 'grid' });
    const client = await mqtt.connectAsync(broker.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    await client.publishAsync(device.topic, JSON.stringify({ ts: '2026-11-21T04:00:00Z', metrics: { frequency: 50.02, power_factor: 0.93 } }), { qos: 1 });
    await client.endAsync();
    const rows = await eventually(async () => {
      const answer = await api<{ readings: { metric: string; value: number }[] }>(
        apiNode.apiUrl, 'GET', `/api/v1/devices/${device.id}/readings?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z`, { key: apiNode.adminKey },
      );
      return answer.body.readings.length === 2 ? answer.body.readings : undefined;
    });
    expect(rows.map((row) => [row.metric, row.value])).toEqual([['frequency', 50.02], ['power_factor', 0.93]]);
  });
});
