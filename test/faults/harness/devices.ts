import mqtt, { type MqttClient } from 'mqtt';
import type { RegisteredDevice } from '../../support/api-client.js';

/** One reading a simulated device sends: its identity is (device, `ts`), unique in a run. */
export interface PlannedReading {
  deviceId: string;
  /** ISO time with milliseconds: matched exactly against the stored row. */
  ts: string;
  /** temperature in °C; a value outside [-60, 70] is quarantined (out of range), by design. */
  value: number;
}

/** `${deviceId}@${ts}`: how the harness names a reading in sets and reports. */
export function readingKey(deviceId: string, ts: string | Date): string {
  return `${deviceId}@${typeof ts === 'string' ? ts : ts.toISOString()}`;
}

const DAY_MS = 86_400_000;

/**
 * Where a plan starts: an hour ago (recent enough for retention, old enough not to be
 * "in the future"), but never before today (UTC). Partitions are a UTC day wide and made
 * from today on, so just after midnight an hour ago needs yesterday's: the first write
 * creating it holds the partition lock until it commits, and a write held at the write
 * gate would then hold every other write before the gate instead of at it.
 */
export function planStartMs(nowMs = Date.now()): number {
  return Math.max(nowMs - 3_600_000, Math.floor(nowMs / DAY_MS) * DAY_MS);
}

/**
 * `perDevice` readings for each device, one millisecond apart from `startMs` (recent
 * enough for retention, old enough not to be "in the future"). Every
 * `outOfRangeEvery`-th reading carries an impossible temperature, so each run also
 * proves the quarantine path keeps what it refuses.
 */
export function planReadings(devices: readonly RegisteredDevice[], perDevice: number, options: { startMs: number; outOfRangeEvery?: number }): PlannedReading[] {
  const readings: PlannedReading[] = [];
  for (const device of devices) {
    for (let i = 0; i < perDevice; i += 1) {
      const outOfRange = options.outOfRangeEvery !== undefined && i % options.outOfRangeEvery === options.outOfRangeEvery - 1;
      readings.push({ deviceId: device.id, ts: new Date(options.startMs + i).toISOString(), value: outOfRange ? 999 : 15 + (i % 100) / 10 });
    }
  }
  return readings;
}

export interface PublishOptions {
  /** Pause between two publishes of one device, spreading the stream over time. @defaultValue 2 */
  intervalMs?: number;
  /** Unacknowledged publishes one device may have outstanding before it waits. @defaultValue 20 */
  maxInFlight?: number;
}

/** Simulated devices publishing a plan; see {@link publishReadings}. */
export interface PublishRun {
  /** Keys ({@link readingKey}) of the readings whose PUBACK arrived. */
  readonly acknowledged: ReadonlySet<string>;
  /** Resolves when every planned reading was acknowledged. */
  readonly done: Promise<void>;
  /** Connections (first connects and reconnects) the devices made. */
  readonly connects: number;
  /** Publishes the devices repeated themselves after mqtt.js gave them up (not counting mqtt.js' own resends). */
  readonly resends: number;
  /** Ends every device connection. */
  close(): Promise<void>;
}

function connectDevice(mqttUrl: string, device: RegisteredDevice, onConnect: () => void): MqttClient {
  const client = mqtt.connect(mqttUrl, {
    username: device.username,
    password: device.password,
    clientId: `fault-${device.id}`,
    // Like field devices: reconnect forever, also after CONNACK "server unavailable"
    // (the broker says so while the database is away), with a short pause.
    reconnectPeriod: 200,
    reconnectOnConnackError: true,
    connectTimeout: 5_000,
    keepalive: 10,
  });
  client.on('connect', onConnect);
  // Connection errors are the point of these tests; mqtt.js reconnects on its own.
  client.on('error', () => {});
  return client;
}

/**
 * Each device connects with mqtt.js and publishes its readings at QoS 1, one at a time
 * with a small window in flight. mqtt.js keeps every unacknowledged QoS 1 PUBLISH in its
 * outgoing store and sends the store again after each reconnect (with `clean: true`
 * too: only incoming QoS 2 state depends on the session), so the devices resend exactly
 * what was not acknowledged, as the MQTT spec asks of a client (MQTT-4.4.0-1).
 */
export function publishReadings(mqttUrl: string, devices: readonly RegisteredDevice[], readings: readonly PlannedReading[], options: PublishOptions = {}): PublishRun {
  const intervalMs = options.intervalMs ?? 2;
  const maxInFlight = options.maxInFlight ?? 20;
  const acknowledged = new Set<string>();
  let connects = 0;
  let resends = 0;
  let closed = false;
  const clients: MqttClient[] = [];

  /**
   * Publishes until PUBACK. mqtt.js resends what is in its store itself, but gives up
   * publishes it queued behind that resend ("Connection closed") when the connection
   * drops again; a device resends those too. False only once the run is closed.
   */
  const deliver = async (client: MqttClient, topic: string, payload: string): Promise<boolean> => {
    for (;;) {
      const error = await new Promise<Error | undefined>((resolve) => {
        client.publish(topic, payload, { qos: 1 }, (failure) => resolve(failure ?? undefined));
      });
      if (error === undefined) return true;
      if (closed) return false;
      resends += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const runDevice = async (device: RegisteredDevice): Promise<void> => {
    const client = connectDevice(mqttUrl, device, () => (connects += 1));
    clients.push(client);
    const own = readings.filter((reading) => reading.deviceId === device.id);
    const inFlight = new Set<Promise<void>>();
    for (const reading of own) {
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const payload = JSON.stringify({ ts: reading.ts, metrics: { temperature: reading.value } });
      const sent: Promise<void> = deliver(client, device.topic, payload).then((ok) => {
        if (ok) acknowledged.add(readingKey(reading.deviceId, reading.ts));
      }).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    await Promise.all(inFlight);
  };

  const done = Promise.all(devices.map(runDevice)).then(() => {
    const unacknowledged = readings.filter((reading) => !acknowledged.has(readingKey(reading.deviceId, reading.ts)));
    if (unacknowledged.length > 0) throw new Error(`${unacknowledged.length} readings ended without PUBACK (client closed)`);
  });
  // Observed by the test through `done`; this keeps an early close from being unhandled.
  done.catch(() => {});
  return {
    acknowledged,
    done,
    get connects() {
      return connects;
    },
    get resends() {
      return resends;
    },
    close: async () => {
      closed = true;
      await Promise.all(clients.map((client) => client.endAsync(true)));
    },
  };
}
