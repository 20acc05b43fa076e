import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../runtime/free-port.js';
import { api, eventually, registerDevice } from '../support/api-client.js';
import { startTestStack } from '../support/test-stack.js';

const REPO = path.resolve(import.meta.dirname, '../..');

async function publish(mqttUrl: string, device: { username: string; password: string; topic: string }, payload: object) {
  const client = await mqtt.connectAsync(mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
  await client.publishAsync(device.topic, JSON.stringify(payload), { qos: 1 });
  await client.endAsync();
}

async function storedValues(apiUrl: string, key: string, deviceId: string): Promise<number[]> {
  const answer = await api<{ readings: { value: number }[] }>(
    apiUrl, 'GET', `/api/v1/devices/${deviceId}/readings?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z`, { key },
  );
  expect(answer.status).toBe(200);
  return answer.body.readings.map((row) => row.value);
}

describe('restart over the same data folder', () => {
  it('keeps readings, devices and credentials when the stack is stopped and started again', async () => {
    const first = await startTestStack();
    const device = await registerDevice(first.apiUrl, first.adminKey, { id: `rs-${randomUUID().slice(0, 8)}`, domain: 'water' });
    await publish(first.mqttUrl, device, { ts: '2026-11-21T01:00:00Z', metrics: { level: 3.25 } });
    await eventually(async () => ((await storedValues(first.apiUrl, first.adminKey, device.id)).length === 1 ? true : undefined));
    await first.close();

    const second = await startTestStack({ reuse: first });
    try {
      expect(await storedValues(second.apiUrl, second.adminKey, device.id)).toEqual([3.25]);
      // The device's secret still works after the restart.
      await publish(second.mqttUrl, device, { ts: '2026-11-21T02:00:00Z', metrics: { level: 3.5 } });
      await eventually(async () => ((await storedValues(second.apiUrl, second.adminKey, device.id)).length === 2 ? true : undefined));
      expect(await storedValues(second.apiUrl, second.adminKey, device.id)).toEqual([3.25, 3.5]);
    } finally {
      await second.remove();
    }
  });
});

interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` as a user runs it, but from source and with no REDIS_URL: the stack starts its own redis-server. */
function startCli(dataDir: string, ports: { http: number; mqtt: number }): RunningCli {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      LISTEN_HOST: '127.0.0.1',
      HTTP_PORT: String(ports.http),
      MQTT_PORT: String(ports.mqtt),
      MQTT_WS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

describe('the stack as a process, with zero configuration', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('prints the API and an admin key, stops cleanly on Ctrl-C, and finds its data again on the next start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'urbansense-cli-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const ports = { http: await findFreePort(), mqtt: await findFreePort() };

    const first = startCli(dataDir, ports);
    cleanup.push(async () => first.child.exitCode === null && first.child.kill('SIGKILL'));
    await eventually(async () => (first.stdout().includes('stop       Ctrl-C') ? true : undefined), 60_000, 'the start-up banner');
    const key = (await readFile(path.join(dataDir, 'admin-api-key'), 'utf8')).trim();
    expect(first.stdout()).toContain(`admin key  ${key}`);
    expect(first.stdout()).toContain(`API        http://127.0.0.1:${ports.http}/api/v1`);
    const apiUrl = `http://127.0.0.1:${ports.http}`;
    const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
    const device = await registerDevice(apiUrl, key, { id: 'cli-station-1', domain: 'environment' });
    await publish(mqttUrl, device, { ts: '2026-11-21T03:00:00Z', metrics: { o3: 120 } });
    await eventually(async () => ((await storedValues(apiUrl, key, device.id)).length === 1 ? true : undefined));

    first.child.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr()).not.toMatch(/Error|\n\s+at /);
    expect(first.stdout()).toContain('"msg":"stopped cleanly"');

    const second = startCli(dataDir, ports);
    cleanup.push(async () => second.child.exitCode === null && second.child.kill('SIGKILL'));
    await eventually(async () => (second.stdout().includes('stop       Ctrl-C') ? true : undefined), 60_000, 'the second banner');
    // The key is not shown twice: the banner points to the file instead.
    expect(second.stdout()).not.toContain(key);
    expect(await storedValues(apiUrl, key, device.id)).toEqual([120]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
