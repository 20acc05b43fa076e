/**
 * A fleet of simulated devices publishing telemetry over MQTT, the way field devices do:
 * each registers (or reuses its secret), holds its own connection, reconnects on its own
 * and publishes its reading every `intervalMs`, jittered so the fleet does not publish in
 * lockstep. Used by the CLI, the demo runner and the end-to-end tests alike.
 */

import { EventEmitter } from 'node:events';
import { openCredentialsStore } from './credentials-store.js';
import type { FleetEvents, FleetStats, PublishOutcome, SimulatedDeviceInfo } from './fleet-events.js';
import { resolveFleetOptions, type SimulatorFleetOptions } from './fleet-options.js';
import { createDeviceModel } from './models/index.js';
import { deriveSeed, mulberry32 } from './models/noise.js';
import { resolveCredentials } from './registration.js';
import { createSimulatedDevice, type SimulatedDevice } from './simulated-device.js';

export type { SimulatorFleetOptions } from './fleet-options.js';
export type {
  DeviceConnectionState, FleetEvents, FleetStats, PublishFailureReason, PublishOutcome, SimulatedDeviceInfo, TelemetryPayload,
} from './fleet-events.js';

export interface SimulatorFleet {
  readonly devices: readonly SimulatedDeviceInfo[];
  /** Starts every device's publishing schedule; calling it again does nothing. */
  start(): void;
  /** Publishes one reading from every device now and resolves when each is acknowledged or failed. */
  publishOnce(): Promise<PublishOutcome[]>;
  /** Resolves when every device is connected; rejects after `timeoutMs` naming those that are not. */
  waitUntilConnected(timeoutMs?: number): Promise<void>;
  stats(): FleetStats;
  on<E extends keyof FleetEvents>(event: E, listener: (...args: FleetEvents[E]) => void): SimulatorFleet;
  off<E extends keyof FleetEvents>(event: E, listener: (...args: FleetEvents[E]) => void): SimulatorFleet;
  /** Stops the schedules, waits briefly for acknowledgements, ends every connection. Idempotent. */
  close(): Promise<void>;
}

export async function createSimulatorFleet(options: SimulatorFleetOptions): Promise<SimulatorFleet> {
  const { plan, seed, intervalMs, jitterRatio, now, connection, ...resolved } = resolveFleetOptions(options);
  const store = resolved.credentialsFile === undefined ? undefined : await openCredentialsStore(resolved.credentialsFile);
  const credentials = await resolveCredentials(plan, {
    supplied: resolved.credentials,
    store,
    concurrency: resolved.registrationConcurrency,
    registration: resolved.registration,
  });

  const events = new EventEmitter<FleetEvents>();
  const devices: SimulatedDevice[] = plan.map((planned) => {
    const model = createDeviceModel(planned.kind, { seed, deviceId: planned.id, utcOffsetMinutes: resolved.utcOffsetMinutes });
    const info: SimulatedDeviceInfo = Object.freeze({ ...planned, metrics: model.metrics });
    const deviceCredentials = credentials.get(planned.id);
    if (deviceCredentials === undefined) throw new Error(`no credentials resolved for device ${planned.id}`);
    return createSimulatedDevice(info, model, deviceCredentials, connection, events);
  });

  const timers = new Set<NodeJS.Timeout>();
  let started = false;
  let closing: Promise<void> | undefined;

  function schedule(device: SimulatedDevice, random: () => number, delayMs: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closing !== undefined) return;
      void device.publishReading(now());
      schedule(device, random, intervalMs * (1 + jitterRatio * (2 * random() - 1)));
    }, delayMs);
    timer.unref();
    timers.add(timer);
  }

  const fleet: SimulatorFleet = {
    devices: devices.map((device) => device.info),
    start() {
      if (closing !== undefined) throw new Error('the simulator fleet is closed');
      if (started) return;
      started = true;
      for (const device of devices) {
        const random = mulberry32(deriveSeed(seed, device.info.id, 'schedule'));
        // A random first offset spreads the fleet over one interval from the start.
        schedule(device, random, random() * intervalMs);
      }
    },
    publishOnce() {
      if (closing !== undefined) return Promise.reject(new Error('the simulator fleet is closed'));
      const atMs = now();
      return Promise.all(devices.map((device) => device.publishReading(atMs)));
    },
    waitUntilConnected(timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => devices.every((device) => device.state === 'connected');
        const cleanUp = (): void => {
          clearTimeout(timer);
          events.off('connected', onConnected);
        };
        const onConnected = (): void => {
          if (!check()) return;
          cleanUp();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanUp();
          const waiting = devices.filter((device) => device.state !== 'connected');
          const list = waiting.slice(0, 10).map((device) => `${device.info.id} (${device.state})`).join(', ');
          reject(new Error(`${waiting.length} of ${devices.length} devices not connected after ${timeoutMs} ms: ${list}`));
        }, timeoutMs);
        timer.unref();
        events.on('connected', onConnected);
        onConnected();
      });
    },
    stats() {
      const totals: FleetStats = { devices: devices.length, connected: 0, refused: 0, published: 0, acknowledged: 0, failed: 0, pending: 0 };
      for (const device of devices) {
        const counters = device.counters();
        totals.published += counters.published;
        totals.acknowledged += counters.acknowledged;
        totals.failed += counters.failed;
        totals.pending += counters.pending;
        if (device.state === 'connected') totals.connected += 1;
        if (device.state === 'refused') totals.refused += 1;
      }
      return totals;
    },
    on(event, listener) {
      events.on(event, listener as never);
      return fleet;
    },
    off(event, listener) {
      events.off(event, listener as never);
      return fleet;
    },
    close() {
      closing ??= (async () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        // Every device is closed even when one fails; the first failure is reported after.
        const results = await Promise.allSettled(devices.map((device) => device.close()));
        const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failure !== undefined) throw failure.reason;
      })();
      return closing;
    },
  };
  return fleet;
}
