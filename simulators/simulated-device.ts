/**
 * One simulated field device: its own MQTT connection (as a real device has), its signal
 * model, and the bookkeeping that turns every reading into exactly one of acknowledged,
 * failed or pending.
 */

import type { EventEmitter } from 'node:events';
import { connect, type IConnackPacket, type MqttClient, type Packet } from 'mqtt';
import type { DeviceCredentials } from './credentials-store.js';
import {
  CONNACK_RETURN_CODES,
  type DeviceConnectionState,
  type FleetEvents,
  type PublishCounters,
  type PublishFailureReason,
  type PublishOutcome,
  type SimulatedDeviceInfo,
  type TelemetryPayload,
} from './fleet-events.js';
import type { DeviceModel } from './models/index.js';

export interface DeviceConnectionOptions {
  mqttUrl: string;
  qos: 0 | 1 | 2;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  keepaliveSeconds: number;
  /** Wait before retrying after the broker refused the credentials; 0 gives up. */
  refusedRetryMs: number;
  maxPendingReadings: number;
  closeTimeoutMs: number;
}

export interface SimulatedDevice {
  readonly info: SimulatedDeviceInfo;
  readonly state: DeviceConnectionState;
  counters(): PublishCounters;
  /** Samples the model at `atMs` and publishes the reading; resolves once it is settled, never rejects. */
  publishReading(atMs: number): Promise<PublishOutcome>;
  close(): Promise<void>;
}

const SERVER_UNAVAILABLE = 3;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function createSimulatedDevice(
  info: SimulatedDeviceInfo,
  model: DeviceModel,
  credentials: DeviceCredentials,
  options: DeviceConnectionOptions,
  events: EventEmitter<FleetEvents>,
): SimulatedDevice {
  const deviceId = info.id;
  let state: DeviceConnectionState = 'connecting';
  const counts = { published: 0, acknowledged: 0, failed: 0 };
  // Every unsettled reading, so close() can settle what the broker never acknowledged.
  const unsettled = new Set<(reason: PublishFailureReason, error: Error) => void>();
  const drained: Array<() => void> = [];
  let refusedReturnCode: number | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const client: MqttClient = connect(options.mqttUrl, {
    clientId: deviceId,
    username: credentials.username,
    password: credentials.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: options.reconnectPeriodMs,
    connectTimeout: options.connectTimeoutMs,
    keepalive: options.keepaliveSeconds,
  });

  function failOutstandingMessages(): void {
    // Their callbacks fire with "Message removed" and the readings count as failed.
    for (const messageId of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(messageId));
  }

  client.on('packetreceive', (packet: Packet) => {
    // The CONNACK is seen here before mqtt.js turns a refusal into a generic 'error'.
    if (packet.cmd === 'connack') refusedReturnCode = (packet as IConnackPacket).returnCode || undefined;
  });
  client.on('connect', () => {
    state = 'connected';
    events.emit('connected', { deviceId });
  });
  client.on('close', () => {
    if (state !== 'connected') return;
    state = 'reconnecting';
    events.emit('disconnected', { deviceId });
  });
  client.on('error', (error) => {
    if (refusedReturnCode === undefined || state === 'closed') {
      if (state !== 'closed') events.emit('deviceError', { deviceId, error });
      return;
    }
    const returnCode = refusedReturnCode;
    refusedReturnCode = undefined;
    state = 'refused';
    failOutstandingMessages();
    // "Server unavailable" is transient by definition (MQTT-3.2.2.3); wrong credentials
    // are not, and hammering a broker with them gets a device banned, so back off.
    const retryMs = returnCode === SERVER_UNAVAILABLE ? options.reconnectPeriodMs : options.refusedRetryMs;
    const retryInMs = retryMs > 0 ? retryMs : undefined;
    const reason = CONNACK_RETURN_CODES[returnCode] ?? `return code ${returnCode}`;
    events.emit('refused', {
      deviceId,
      returnCode,
      error: new Error(`broker refused device ${deviceId}: ${reason}`, { cause: error }),
      retryInMs,
    });
    if (retryInMs !== undefined) {
      retryTimer = setTimeout(() => {
        if (state !== 'refused') return;
        state = 'connecting';
        client.reconnect();
      }, retryInMs).unref();
    }
  });

  function settleWith(ok: boolean): void {
    if (ok) counts.acknowledged += 1;
    else counts.failed += 1;
    if (unsettled.size === 0) for (const resolve of drained.splice(0)) resolve();
  }

  function publishReading(atMs: number): Promise<PublishOutcome> {
    const payload: TelemetryPayload = { ts: new Date(atMs).toISOString(), metrics: model.sample(atMs) };
    const base = { deviceId, topic: info.topic, payload };
    counts.published += 1;
    const refuse = (reason: PublishFailureReason, error: Error): Promise<PublishOutcome> => {
      settleWith(false);
      events.emit('publishFailed', { deviceId, reason, error });
      return Promise.resolve({ ...base, ok: false, reason, error });
    };
    if (state === 'closed') return refuse('closed', new Error(`device ${deviceId} is closed`));
    if (state === 'refused') return refuse('refused', new Error(`device ${deviceId} is refused by the broker; reading not sent`));
    if (unsettled.size >= options.maxPendingReadings) {
      return refuse('backlog-full', new Error(`device ${deviceId} has ${unsettled.size} readings awaiting acknowledgement; reading dropped`));
    }
    return new Promise((resolve) => {
      const settle = (reason: PublishFailureReason | undefined, error?: Error): void => {
        if (!unsettled.delete(settleFailed)) return; // settled already (close() raced the callback)
        if (reason === undefined) {
          settleWith(true);
          resolve({ ...base, ok: true });
          return;
        }
        const failure = error ?? new Error(reason);
        settleWith(false);
        events.emit('publishFailed', { deviceId, reason, error: failure });
        resolve({ ...base, ok: false, reason, error: failure });
      };
      const settleFailed = (reason: PublishFailureReason, error: Error): void => settle(reason, error);
      unsettled.add(settleFailed);
      client.publish(info.topic, JSON.stringify(payload), { qos: options.qos }, (error) => {
        if (error) settle('publish-error', error);
        else settle(undefined);
      });
    });
  }

  let closing: Promise<void> | undefined;
  async function closeOnce(): Promise<void> {
    const wasConnected = state === 'connected';
    state = 'closed';
    clearTimeout(retryTimer);
    // Give readings in flight a chance to be acknowledged, as a device powering down cleanly would.
    if (wasConnected && unsettled.size > 0) {
      await Promise.race([new Promise<void>((resolve) => drained.push(resolve)), delay(options.closeTimeoutMs)]);
    }
    const closedError = new Error(`device ${deviceId} closed before the broker acknowledged the reading`);
    for (const fail of [...unsettled]) fail('closed', closedError);
    failOutstandingMessages();
    // A clean DISCONNECT when connected; otherwise force, which also aborts a connect in progress.
    await client.endAsync(!client.connected);
  }

  return {
    info,
    get state() {
      return state;
    },
    counters: () => ({ ...counts, pending: unsettled.size }),
    publishReading,
    close() {
      closing ??= closeOnce();
      return closing;
    },
  };
}
