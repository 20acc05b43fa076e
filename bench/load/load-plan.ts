/*
 * What the load generator is asked to do and what it reports, shared by the runner and
 * the generator process (they talk over the fork IPC channel).
 */

export interface LoadPlan {
  host: string;
  port: number;
  /** One MQTT connection per device; username = device id. */
  deviceIds: readonly string[];
  /** The devices' common secret (the bench registers them all with one). */
  secret: string;
  /** Readings per message: 1 (a sensor) or 10 (a station publishing all its metrics). */
  readingsPerMessage: number;
  /** QoS 1 publishes awaiting PUBACK per connection, as a real device's bounded window. */
  inFlightPerConnection: number;
  /** How long to publish after all are connected. */
  durationMs: number;
  /** Messages per second over all connections; `undefined`: as fast as the PUBACKs allow. */
  messagesPerSecond?: number;
  /** How long to wait, once publishing stops, for the last PUBACKs. @defaultValue 30000 */
  drainTimeoutMs?: number;
}

export interface LoadCounts {
  /** Messages written to the sockets. */
  sent: number;
  /** Messages the broker acknowledged (PUBACK): the broker's promise that they are durable. */
  acked: number;
}

export type GeneratorMessage =
  | { type: 'connected'; connections: number; connectMs: number }
  | ({ type: 'progress'; atMs: number } & LoadCounts)
  | ({ type: 'done'; publishMs: number; closedConnections: number; errors: string[]; cpuSeconds: number } & LoadCounts)
  | { type: 'failed'; error: string };

/** The ten environment metrics a station reports, all in their catalogue unit and range. */
export const STATION_METRICS = ['pm2_5', 'pm10', 'no2', 'so2', 'o3', 'co', 'noise_laeq', 'temperature', 'humidity', 'wind_speed'] as const;

/**
 * The platform's own JSON (docs/payloads.md) with an explicit timestamp. Each device's
 * timestamps are strictly increasing milliseconds, so every reading is unique and
 * `stored == acknowledged × readings per message` holds exactly; the timestamp is also
 * the publish time, from which the latency scenario measures.
 */
export function telemetryPayload(timeMs: number, readingsPerMessage: number, seq: number): string {
  const value = 10 + (seq % 300) / 10;
  if (readingsPerMessage === 1) return `{"ts":${timeMs},"metrics":{"temperature":${value}}}`;
  const metrics = STATION_METRICS.slice(0, readingsPerMessage).map((metric) => `"${metric}":${value}`).join(',');
  return `{"ts":${timeMs},"metrics":{${metrics}}}`;
}
