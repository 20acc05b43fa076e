import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { METRIC_CATALOGUE } from '../contracts/metric-catalogue.js';
import { parseIsoInstant } from '../contracts/iso-time.js';
import { telemetryTopic } from '../contracts/topics.js';
import { createSimulatorFleet, type SimulatorFleet, type SimulatorFleetOptions } from './fleet.js';
import type { FleetEvents } from './fleet-events.js';
import { planFleet } from './fleet-plan.js';
import { startTestBroker, type TestBroker } from './test-support/aedes-test-broker.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function passwords(idPrefix: string, devices: SimulatorFleetOptions['devices']): Map<string, string> {
  return new Map(planFleet(devices ?? 4, idPrefix).map((device) => [device.id, `secret-of-${device.id}`]));
}

async function broker(options: Parameters<typeof startTestBroker>[0]): Promise<TestBroker> {
  const started = await startTestBroker(options);
  cleanups.push(() => started.close());
  return started;
}

async function fleetFor(url: string, accounts: ReadonlyMap<string, string>, options: Partial<SimulatorFleetOptions> = {}) {
  const fleet = await createSimulatorFleet({
    mqttUrl: url,
    credentials: Object.fromEntries([...accounts].map(([id, password]) => [id, { password }])),
    ...options,
  });
  cleanups.push(() => fleet.close());
  return fleet;
}

function collect<E extends keyof FleetEvents>(fleet: SimulatorFleet, event: E): FleetEvents[E][0][] {
  const seen: FleetEvents[E][0][] = [];
  fleet.on(event, ((payload: FleetEvents[E][0]) => seen.push(payload)) as never);
  return seen;
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Open handles of a kind that keep the process alive (unref'd timers are not listed). */
function handles(kind: 'TCPSocketWrap' | 'Timeout'): number {
  return process.getActiveResourcesInfo().filter((name) => name === kind).length;
}

describe('simulator fleet against a real aedes broker', () => {
  it('connects each device with its own credentials and publishes valid telemetry to its own topic', async () => {
    const baseline = { sockets: handles('TCPSocketWrap'), timers: handles('Timeout') };
    const accounts = passwords('t1', 8);
    const mqtt = await broker({ accounts });
    const fleet = await fleetFor(mqtt.url, accounts, { devices: 8, idPrefix: 't1', intervalMs: 40, seed: 7 });
    expect(fleet.devices.map((device) => device.domain).sort()).toEqual(
      ['environment', 'environment', 'grid', 'grid', 'safety', 'safety', 'water', 'water'],
    );

    await fleet.waitUntilConnected(5000);
    // Both ends of 8 connections live in this process.
    expect(handles('TCPSocketWrap')).toBeGreaterThanOrEqual(baseline.sockets + 16);
    fleet.start();
    await until(() => fleet.devices.every((device) => mqtt.accepted.filter((m) => m.clientId === device.id).length >= 3));
    await fleet.close();

    for (const device of fleet.devices) {
      expect(mqtt.connects).toContainEqual({ clientId: device.id, username: device.id, password: accounts.get(device.id), accepted: true });
      const own = mqtt.accepted.filter((message) => message.clientId === device.id);
      expect(own.length).toBeGreaterThanOrEqual(3);
      for (const message of own) {
        expect(message.topic).toBe(telemetryTopic(device.id));
        expect(message.qos).toBe(1);
        const payload = JSON.parse(message.payload) as Record<string, unknown>;
        expect(Object.keys(payload).sort()).toEqual(['metrics', 'ts']);
        expect(payload.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Math.abs((parseIsoInstant(payload.ts as string) ?? 0) - Date.now())).toBeLessThan(60_000);
        const metrics = payload.metrics as Record<string, unknown>;
        expect(Object.keys(metrics)).toEqual([...device.metrics]);
        for (const [key, value] of Object.entries(metrics)) {
          const definition = METRIC_CATALOGUE.get(key);
          expect(definition?.domain).toBe(device.domain);
          expect(typeof value).toBe('number');
          expect(value as number).toBeGreaterThanOrEqual(definition?.min ?? Infinity);
          expect(value as number).toBeLessThanOrEqual(definition?.max ?? -Infinity);
        }
      }
    }
    const stats = fleet.stats();
    expect(stats).toMatchObject({ devices: 8, failed: 0, pending: 0, connected: 0, refused: 0 });
    expect(stats.acknowledged).toBe(stats.published);
    expect(stats.acknowledged).toBe(mqtt.accepted.length);

    await mqtt.close();
    await until(() => handles('TCPSocketWrap') <= baseline.sockets, 2000);
    expect(handles('Timeout')).toBeLessThanOrEqual(baseline.timers);
  });

  it('publishOnce returns what each device sent, acknowledged, and close() is idempotent', async () => {
    const accounts = passwords('t2', { water: 2, grid: 1 });
    const mqtt = await broker({ accounts });
    const fleet = await fleetFor(mqtt.url, accounts, { devices: { water: 2, grid: 1 }, idPrefix: 't2', now: () => Date.UTC(2026, 0, 15, 0, 30) });

    const outcomes = await fleet.publishOnce();
    expect(outcomes.map((outcome) => [outcome.deviceId, outcome.ok])).toEqual([
      ['t2-water-0001', true], ['t2-water-0002', true], ['t2-grid-0001', true],
    ]);
    for (const outcome of outcomes) {
      expect(outcome.payload.ts).toBe('2026-01-15T00:30:00.000Z');
      expect(mqtt.accepted.map((message) => JSON.parse(message.payload))).toContainEqual(outcome.payload);
    }
    expect(fleet.devices.map((device) => device.kind)).toEqual(['supply-monitor', 'hydrology-station', 'feeder-10kv']);
    const first = fleet.close();
    expect(fleet.close()).toBe(first);
    await first;
    await until(() => mqtt.connectedClients() === 0, 2000);
    await expect(fleet.publishOnce()).rejects.toThrow(/closed/);
  });

  it('reports refused credentials in events and stats instead of crashing', async () => {
    const accounts = passwords('t3', 4);
    const mqtt = await broker({ accounts });
    const wrong = new Map([...accounts].map(([id]) => [id, 'not-the-secret']));
    const fleet = await fleetFor(mqtt.url, wrong, { devices: 4, idPrefix: 't3', intervalMs: 20, refusedRetryMs: 0 });
    const refused = collect(fleet, 'refused');
    const failed = collect(fleet, 'publishFailed');

    await until(() => refused.length === 4);
    expect(refused.map((event) => event.returnCode)).toEqual([4, 4, 4, 4]);
    expect(refused[0]?.error.message).toMatch(/broker refused device t3-\w+-0001: bad user name or password/);
    expect(refused[0]?.retryInMs).toBeUndefined();
    await expect(fleet.waitUntilConnected(200)).rejects.toThrow(/4 of 4 devices not connected .*\(refused\)/);

    const outcomes = await fleet.publishOnce();
    expect(outcomes.every((outcome) => !outcome.ok && outcome.reason === 'refused')).toBe(true);
    fleet.start();
    await until(() => fleet.stats().failed >= 12);
    const stats = fleet.stats();
    expect(stats).toMatchObject({ devices: 4, connected: 0, refused: 4, acknowledged: 0, pending: 0 });
    expect(stats.failed).toBe(stats.published);
    expect(failed.length).toBe(stats.failed);
    expect(mqtt.attempts).toEqual([]);
    await fleet.close();
  });

  it('retries refused devices after refusedRetryMs', async () => {
    const accounts = passwords('t4', 1);
    const mqtt = await broker({ accounts });
    const fleet = await fleetFor(mqtt.url, new Map([['t4-env-0001', 'wrong']]), { devices: 1, idPrefix: 't4', refusedRetryMs: 50 });
    const refused = collect(fleet, 'refused');
    await until(() => refused.length >= 3);
    expect(refused[0]?.retryInMs).toBe(50);
    expect(mqtt.connects.filter((attempt) => attempt.username === 't4-env-0001').length).toBeGreaterThanOrEqual(3);
  });

  it('resends a reading the broker did not acknowledge, over a new connection', async () => {
    const accounts = passwords('t5', 2);
    // The first delivery of every reading fails as if the queue were down: aedes drops the
    // connection without PUBACK, and mqtt.js must reconnect and send it again.
    const mqtt = await broker({ accounts, decidePublish: (_message, attempt) => (attempt === 1 ? 'reject' : 'accept') });
    const fleet = await fleetFor(mqtt.url, accounts, { devices: 2, idPrefix: 't5', reconnectPeriodMs: 50 });
    const disconnected = collect(fleet, 'disconnected');
    await fleet.waitUntilConnected();

    const outcomes = await fleet.publishOnce();
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(disconnected.map((event) => event.deviceId).sort()).toEqual(['t5-env-0001', 't5-water-0001']);
    for (const outcome of outcomes) {
      const sent = JSON.stringify(outcome.payload);
      expect(mqtt.attempts.filter((message) => message.payload === sent)).toHaveLength(2);
      expect(mqtt.accepted.filter((message) => message.payload === sent)).toHaveLength(1);
    }
    expect(fleet.stats()).toMatchObject({ published: 2, acknowledged: 2, failed: 0, pending: 0 });
  });

  it('bounds readings awaiting acknowledgement and fails them on close', async () => {
    const accounts = passwords('t6', 1);
    const mqtt = await broker({ accounts, decidePublish: () => 'hold' });
    const fleet = await fleetFor(mqtt.url, accounts, { devices: 1, idPrefix: 't6', maxPendingReadings: 2, closeTimeoutMs: 100 });
    await fleet.waitUntilConnected();

    const held = [fleet.publishOnce(), fleet.publishOnce()];
    const third = await fleet.publishOnce();
    expect(third[0]).toMatchObject({ ok: false, reason: 'backlog-full' });
    await until(() => mqtt.attempts.length === 2);
    expect(fleet.stats()).toMatchObject({ published: 3, acknowledged: 0, failed: 1, pending: 2 });

    const started = Date.now();
    await fleet.close();
    expect(Date.now() - started).toBeLessThan(2000);
    for (const outcome of (await Promise.all(held)).flat()) expect(outcome).toMatchObject({ ok: false, reason: 'closed' });
    expect(fleet.stats()).toMatchObject({ published: 3, acknowledged: 0, failed: 3, pending: 0 });
  });

  it('keeps trying while the broker is down and connects once it is up', async () => {
    const accounts = passwords('t7', 1);
    const placeholder = await startTestBroker({ accounts });
    const { port } = placeholder;
    await placeholder.close();
    const fleet = await fleetFor(`mqtt://127.0.0.1:${port}`, accounts, { devices: 1, idPrefix: 't7', reconnectPeriodMs: 50 });
    const errors = collect(fleet, 'deviceError');
    await until(() => errors.length >= 2);
    expect(errors[0]?.error.message).toMatch(/ECONNREFUSED/);
    const pending = fleet.publishOnce();

    const mqtt = await broker({ accounts, port });
    const [outcome] = await pending;
    expect(outcome?.ok).toBe(true);
    expect(mqtt.accepted.map((message) => JSON.parse(message.payload))).toEqual([outcome?.payload]);
  });

  it('closes promptly while the broker is unreachable, failing what was never acknowledged', async () => {
    const baseline = handles('TCPSocketWrap');
    const accounts = passwords('t8', 2);
    const placeholder = await startTestBroker({ accounts });
    await placeholder.close();
    const fleet = await fleetFor(placeholder.url, accounts, { devices: 2, idPrefix: 't8', reconnectPeriodMs: 30 });
    const pending = fleet.publishOnce();
    await sleep(100);
    const started = Date.now();
    await fleet.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect((await pending).map((outcome) => outcome.ok || outcome.reason)).toEqual(['closed', 'closed']);
    expect(fleet.stats()).toMatchObject({ published: 2, failed: 2, pending: 0, connected: 0 });
    await sleep(100);
    expect(handles('TCPSocketWrap')).toBeLessThanOrEqual(baseline);
  });

  it('refuses options it cannot honour before touching the network', async () => {
    await expect(createSimulatorFleet({ mqttUrl: 'http://127.0.0.1:1', credentials: {} })).rejects.toThrow(/mqttUrl .* protocol http:/);
    await expect(createSimulatorFleet({ mqttUrl: 'mqtt://127.0.0.1:1', idPrefix: 'bad/prefix' })).rejects.toThrow(/idPrefix "bad\/prefix"/);
    await expect(createSimulatorFleet({ mqttUrl: 'mqtt://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1' })).rejects.toThrow(/adminKey is required/);
    await expect(createSimulatorFleet({ mqttUrl: 'mqtt://127.0.0.1:1', devices: 2 })).rejects.toThrow(
      /no credentials for device sim-env-0001/,
    );
  });
});
