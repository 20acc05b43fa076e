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

export function parseSensorsTopic(topic: string): SensorsTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 3 || parts[0] !== SENSORS_TOPIC_ROOT) return undefined;
  const deviceId = parts[1] ?? '';
  if (!isValidDeviceId(deviceId)) return undefined;
  return { deviceId, channel: parts.slice(2).join('/') };
}
