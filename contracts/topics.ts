/**
 * The MQTT topic namespace. A device owns `sensors/{deviceId}/…` and nothing else;
 * the channel after its id names the payload format.
 */

export const SENSORS_TOPIC_ROOT = 'sensors';

/** Channels the ingest worker decodes. Others are accepted and quarantined as unsupported. */
export const TELEMETRY_CHANNEL = 'telemetry';
/** SenML packs (RFC 8428, application/senml+json). */
export const SENML_CHANNEL = 'senml';
/**
 * Issue 7: the device's connection state, `online` or `offline`. A device sets its MQTT
 * last will here with `offline` and publishes `online` once connected, so the broker's
 * will marks it offline the moment its connection dies.
 */
export const STATUS_CHANNEL = 'status';

/**
 * Device ids appear as MQTT topic levels and usernames, so they must not contain
 * `/`, `+`, `#`, whitespace or control characters; dots are allowed for child devices.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_PATTERN.test(id);
}

export function telemetryTopic(deviceId: string): string {
  return `${SENSORS_TOPIC_ROOT}/${deviceId}/${TELEMETRY_CHANNEL}`;
}

/** The prefix every topic a device may publish or subscribe to starts with. */
export function deviceTopicPrefix(deviceId: string): string {
  return `${SENSORS_TOPIC_ROOT}/${deviceId}/`;
}

export interface SensorsTopic {
  deviceId: string;
  /** Everything after `sensors/{deviceId}/`, e.g. `telemetry`. */
  channel: string;
}

const SENSORS_PREFIX = `${SENSORS_TOPIC_ROOT}/`;

export function parseSensorsTopic(topic: string): SensorsTopic | undefined {
  // indexOf, not split: workers parse the topic of every message (issue 9, profiled).
  if (!topic.startsWith(SENSORS_PREFIX)) return undefined;
  const idEnd = topic.indexOf('/', SENSORS_PREFIX.length);
  if (idEnd < 0) return undefined;
  const deviceId = topic.slice(SENSORS_PREFIX.length, idEnd);
  if (!isValidDeviceId(deviceId)) return undefined;
  return { deviceId, channel: topic.slice(idEnd + 1) };
}
