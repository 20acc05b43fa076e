/**
 * Registration against a small HTTP server that answers as the API contract says
 * (201 with a one-time secret, 409 problem+json for an existing id, 401 for a wrong key).
 * The real API is exercised by the end-to-end suite; this pins the fleet's side of it.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSimulatorFleet, type SimulatorFleetOptions } from './fleet.js';
import { startTestBroker } from './test-support/aedes-test-broker.js';

const ADMIN_KEY = 'admin-key-for-tests';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeApi {
  url: string;
  /** Device id → secret; shared with the broker, as the real database is. */
  accounts: Map<string, string>;
  bodies: unknown[];
}

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function startFakeApi(): Promise<FakeApi> {
  const accounts = new Map<string, string>();
  const bodies: unknown[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const problem = (status: number, type: string, detail: string) => {
        response.writeHead(status, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ type, title: type, status, detail }));
      };
      if (request.method !== 'POST' || request.url !== '/api/v1/devices') return problem(404, 'not_found', request.url ?? '');
      if (request.headers.authorization !== `Bearer ${ADMIN_KEY}`) return problem(401, 'unauthorized', 'unknown API key');
      const device = (await body(request)) as { id: string; domain: string; name: string };
      bodies.push(device);
      if (accounts.has(device.id)) return problem(409, 'conflict', `device ${device.id} exists already`);
      const password = randomBytes(12).toString('base64url');
      accounts.set(device.id, password);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ...device, username: device.id, password, topic: `sensors/${device.id}/telemetry` }));
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${address.port}`, accounts, bodies };
}

async function setUp() {
  const api = await startFakeApi();
  const broker = await startTestBroker({ accounts: api.accounts });
  cleanups.push(() => broker.close());
  const directory = await mkdtemp(join(tmpdir(), 'sim-credentials-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  const options = (extra: Partial<SimulatorFleetOptions> = {}): SimulatorFleetOptions => ({
    mqttUrl: broker.url,
    apiUrl: api.url,
    adminKey: ADMIN_KEY,
    devices: 2,
    idPrefix: 'reg',
    credentialsFile: join(directory, 'nested', 'credentials.json'),
    ...extra,
  });
  return { api, broker, directory, options };
}

async function openFleet(options: SimulatorFleetOptions) {
  const fleet = await createSimulatorFleet(options);
  cleanups.push(() => fleet.close());
  return fleet;
}

describe('device registration', () => {
  it('registers new devices, keeps their secrets in a 0600 file, and reuses them on 409', async () => {
    const { api, options } = await setUp();
    const first = await openFleet(options());
    expect(api.bodies).toEqual([
      { id: 'reg-env-0001', domain: 'environment', name: 'Air-quality station reg-env-0001' },
      { id: 'reg-water-0001', domain: 'water', name: 'Water-supply monitoring point reg-water-0001' },
    ]);
    await first.waitUntilConnected();
    await first.close();

    const file = options().credentialsFile as string;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { devices: Record<string, { password: string }> };
    expect(saved.devices['reg-env-0001']?.password).toBe(api.accounts.get('reg-env-0001'));

    // Second run: the API answers 409 for both, the file supplies the secrets, the broker accepts them.
    const second = await openFleet(options());
    await second.waitUntilConnected();
    const outcomes = await second.publishOnce();
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(api.bodies).toHaveLength(4);
  });

  it('explains a 409 for a device whose secret it does not have', async () => {
    const { api, options } = await setUp();
    api.accounts.set('reg-water-0001', 'registered-by-someone-else');
    await expect(createSimulatorFleet(options())).rejects.toThrow(
      /device reg-water-0001 is already registered \(409\) and its secret is unknown \(.*credentials\.json has no entry for it\)/,
    );
    // The secret the API did hand out before the failure is kept: it is never shown again.
    const saved = JSON.parse(await readFile(options().credentialsFile as string, 'utf8')) as { devices: Record<string, unknown> };
    expect(Object.keys(saved.devices)).toEqual(['reg-env-0001']);
    await expect(createSimulatorFleet(options({ credentialsFile: undefined, idPrefix: 'reg' }))).rejects.toThrow(/no credentialsFile was given/);
  });

  it('names the admin key when the API refuses it, and the URL when the API is down', async () => {
    const { options } = await setUp();
    await expect(createSimulatorFleet(options({ adminKey: 'wrong' }))).rejects.toThrow(/refused the admin key \(401 .*check API_KEY/);
    await expect(createSimulatorFleet(options({ apiUrl: 'http://127.0.0.1:1' }))).rejects.toThrow(
      /cannot register device reg-\w+-0001: POST http:\/\/127\.0\.0\.1:1\/api\/v1\/devices failed.*is the API running\?/,
    );
  });

  it('refuses to overwrite a credentials file it cannot read', async () => {
    const { directory, options } = await setUp();
    const file = join(directory, 'broken.json');
    await writeFile(file, '{ not json');
    await expect(createSimulatorFleet(options({ credentialsFile: file }))).rejects.toThrow(/broken\.json is not valid JSON.*fix or move it/);
    expect(await readFile(file, 'utf8')).toBe('{ not json');
  });
});
