/**
 * What a simulator fleet reports: typed events for connection state and failures, the
 * result of publishing one reading, and counters. The fleet never logs; the CLI (or a
 * test, or the demo runner) decides what to print.
 */

import type { Domain } from '../contracts/metric-catalogue.js';
import type { DeviceKind, Metrics } from './models/index.js';

/** The native telemetry payload (docs/payloads.md): one instant, all of a device's metrics. */
export interface TelemetryPayload {
  /** Device time, ISO 8601 in UTC with milliseconds, e.g. `2026-11-21T00:00:00.000Z`. */
  ts: string;
  metrics: Metrics;
}

/**
 * - `connecting`: first connection attempt under way.
 * - `connected`: CONNACK accepted; readings go out now.
 * - `reconnecting`: the connection dropped; mqtt.js retries and keeps QoS ≥ 1 readings to resend.
 * - `refused`: the broker refused the credentials (CONNACK return code ≠ 0); retried later.
 * - `closed`: `close()` was called.
 */
export type DeviceConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'closed';

/**
 * Why a reading did not reach the broker:
 * - `refused`: the device's connection is refused, so the reading was not sent.
 * - `backlog-full`: too many readings already await acknowledgement (broker unreachable for long).
 * - `publish-error`: mqtt.js reported an error for the publish.
 * - `closed`: the fleet closed before the broker acknowledged it.
 */
export type PublishFailureReason = 'refused' | 'backlog-full' | 'publish-error' | 'closed';

interface PublishOutcomeBase {
  deviceId: string;
  topic: string;
  payload: TelemetryPayload;
}

/** The result of one reading: acknowledged by the broker (PUBACK for QoS 1), or not. */
export type PublishOutcome =
  | (PublishOutcomeBase & { ok: true })
  | (PublishOutcomeBase & { ok: false; reason: PublishFailureReason; error: Error });

/** A device of the fleet as the caller sees it. */
export interface SimulatedDeviceInfo {
  id: string;
  domain: Domain;
  kind: DeviceKind;
  name: string;
  topic: string;
  /** Catalogue keys every reading of this device carries. */
  metrics: readonly string[];
}

/** Reading counters; `published = acknowledged + failed + pending` at every instant. */
export interface PublishCounters {
  /** Readings produced and handed to the device's connection (or failed before it). */
  published: number;
  /** Readings the broker acknowledged (PUBACK for QoS 1; written to the socket for QoS 0). */
  acknowledged: number;
  /** Readings that did not reach the broker, for any {@link PublishFailureReason}. */
  failed: number;
  /** Readings sent or queued but not yet acknowledged. */
  pending: number;
}

export interface FleetStats extends PublishCounters {
  devices: number;
  /** Devices whose connection is up now. */
  connected: number;
  /** Devices whose credentials the broker refuses now. */
  refused: number;
}

/** MQTT 3.1.1 CONNACK return codes (MQTT-3.2.2.3), for readable refusal messages. */
export const CONNACK_RETURN_CODES: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export interface FleetEvents {
  /** The broker accepted the device's connection (first time or after a reconnect). */
  connected: [event: { deviceId: string }];
  /** An accepted connection dropped; the device reconnects on its own. */
  disconnected: [event: { deviceId: string }];
  /** The broker refused the connection; `retryInMs` undefined means the device gave up. */
  refused: [event: { deviceId: string; returnCode: number; error: Error; retryInMs: number | undefined }];
  /** Transport trouble (connection refused, reset, timeout). Named so an unheard error cannot crash the process. */
  deviceError: [event: { deviceId: string; error: Error }];
  publishFailed: [event: { deviceId: string; reason: PublishFailureReason; error: Error }];
}
