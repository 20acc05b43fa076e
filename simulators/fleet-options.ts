/**
 * Options of {@link createSimulatorFleet}, with their defaults and validation. Everything
 * is checked before the first registration, so a typo never leaves devices registered
 * with secrets nobody kept.
 */

import type { FleetSize, PlannedDevice } from './fleet-plan.js';
import { planFleet } from './fleet-plan.js';
import type { RegistrationOptions, SuppliedCredentials } from './registration.js';
import type { DeviceConnectionOptions } from './simulated-device.js';

export interface SimulatorFleetOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` (also `mqtts://`, `ws://`). */
  mqttUrl: string;
  /** API base URL for registering devices; without it every device needs `credentials` or a `credentialsFile` entry. */
  apiUrl?: string;
  /** Admin API key for registration; required with `apiUrl`. */
  adminKey?: string;
  /** Credentials by device id, used as they are (no registration); `username` defaults to the id. */
  credentials?: Readonly<Record<string, SuppliedCredentials>>;
  /**
   * JSON file remembering the secrets of registered devices, so a re-run reuses them
   * instead of failing on 409. Written with mode 0600. @defaultValue none
   */
  credentialsFile?: string;
  /** Device count spread round-robin over the four domains, or counts per domain. @defaultValue 4 */
  devices?: FleetSize;
  /** Mean time between two readings of one device. @defaultValue 1000 */
  intervalMs?: number;
  /** Each interval is drawn from `intervalMs · (1 ± jitterRatio)`. @defaultValue 0.2 */
  jitterRatio?: number;
  /** Device ids are `{idPrefix}-{env|water|grid|safety}-0001`. @defaultValue 'sim' */
  idPrefix?: string;
  /** MQTT QoS of telemetry; 1 gets a PUBACK once the reading is durably queued. @defaultValue 1 */
  qos?: 0 | 1 | 2;
  /** Fixes every random choice: site parameters, signals, schedule offsets. @defaultValue 1 */
  seed?: number | string;
  /** Local time of the simulated city, for daily cycles. @defaultValue 480 (UTC+8) */
  utcOffsetMinutes?: number;
  /** Wait between reconnect attempts after a dropped connection. @defaultValue 1000 */
  reconnectPeriodMs?: number;
  /** Limit for CONNECT to CONNACK. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /** MQTT keep-alive. @defaultValue 30 */
  keepaliveSeconds?: number;
  /** Wait before retrying after the broker refused the credentials; 0 never retries. @defaultValue 30000 */
  refusedRetryMs?: number;
  /** Readings one device keeps awaiting acknowledgement before it drops new ones. @defaultValue 1000 */
  maxPendingReadings?: number;
  /** How long `close()` waits for readings in flight to be acknowledged. @defaultValue 5000 */
  closeTimeoutMs?: number;
  /** Per-request limit of a registration. @defaultValue 10000 */
  registrationTimeoutMs?: number;
  /** Registrations in flight at once. @defaultValue 8 */
  registrationConcurrency?: number;
  /** Clock for reading timestamps (epoch ms). @defaultValue Date.now */
  now?: () => number;
}

/** The options with defaults applied and checked. */
export interface ResolvedFleetOptions {
  plan: PlannedDevice[];
  seed: number | string;
  intervalMs: number;
  jitterRatio: number;
  utcOffsetMinutes: number | undefined;
  now: () => number;
  connection: DeviceConnectionOptions;
  registration: RegistrationOptions | undefined;
  registrationConcurrency: number;
  credentials: Readonly<Record<string, SuppliedCredentials>> | undefined;
  credentialsFile: string | undefined;
}

const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];

function validateMqttUrl(mqttUrl: string): void {
  let url: URL;
  try {
    url = new URL(mqttUrl);
  } catch {
    throw new Error(`mqttUrl "${mqttUrl}" is not a URL; expected e.g. mqtt://127.0.0.1:1883`);
  }
  if (!MQTT_PROTOCOLS.includes(url.protocol)) {
    throw new Error(`mqttUrl "${mqttUrl}" has protocol ${url.protocol}; expected one of ${MQTT_PROTOCOLS.join(' ')}`);
  }
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${name} must be a ${allowZero ? 'number ≥ 0' : 'positive number'}, got ${value}`);
  }
  return value;
}

export function resolveFleetOptions(options: SimulatorFleetOptions): ResolvedFleetOptions {
  validateMqttUrl(options.mqttUrl);
  const jitterRatio = positive('jitterRatio', options.jitterRatio ?? 0.2, true);
  if (jitterRatio >= 1) throw new Error(`jitterRatio must be below 1, got ${jitterRatio}`);
  const qos = options.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new Error(`qos must be 0, 1 or 2, got ${String(qos)}`);
  if (options.apiUrl !== undefined && !options.adminKey) {
    throw new Error('adminKey is required with apiUrl: registering devices needs the admin API key');
  }
  return {
    plan: planFleet(options.devices ?? 4, options.idPrefix ?? 'sim'),
    seed: options.seed ?? 1,
    intervalMs: positive('intervalMs', options.intervalMs ?? 1000),
    jitterRatio,
    utcOffsetMinutes: options.utcOffsetMinutes,
    now: options.now ?? Date.now,
    connection: {
      mqttUrl: options.mqttUrl,
      qos,
      reconnectPeriodMs: positive('reconnectPeriodMs', options.reconnectPeriodMs ?? 1000),
      connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
      keepaliveSeconds: positive('keepaliveSeconds', options.keepaliveSeconds ?? 30, true),
      refusedRetryMs: positive('refusedRetryMs', options.refusedRetryMs ?? 30_000, true),
      maxPendingReadings: positive('maxPendingReadings', options.maxPendingReadings ?? 1000),
      closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs ?? 5000, true),
    },
    registration:
      options.apiUrl === undefined
        ? undefined
        : {
            apiUrl: options.apiUrl,
            adminKey: options.adminKey ?? '',
            timeoutMs: positive('registrationTimeoutMs', options.registrationTimeoutMs ?? 10_000),
          },
    registrationConcurrency: positive('registrationConcurrency', options.registrationConcurrency ?? 8),
    credentials: options.credentials,
    credentialsFile: options.credentialsFile,
  };
}
