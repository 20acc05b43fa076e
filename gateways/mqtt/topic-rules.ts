import { parseSparkplugTopic, sparkplugSubscriptionAllowed } from '../../contracts/sparkplug-topic.js';
import { deviceTopicPrefix, parseSensorsTopic } from '../../contracts/topics.js';

/**
 * What a device may publish and subscribe to. A device owns `sensors/{deviceId}/…`; a
 * device acting as a Sparkplug B edge node (its id is the edge node id) also owns
 * `spBv1.0/{group}/{type}/{deviceId}[/{device}]` (Sparkplug 3.0 §4.1), for any group.
 */

export type TopicKind = 'sensors' | 'sparkplug';

/** The kind of an allowed publish (or will) topic; `undefined` when the device may not publish there. */
export function publishTopicKind(topic: string, deviceId: string): TopicKind | undefined {
  if (topic.startsWith(deviceTopicPrefix(deviceId))) return 'sensors';
  return parseSparkplugTopic(topic)?.edgeNodeId === deviceId ? 'sparkplug' : undefined;
}

export function subscriptionAllowed(filter: string, deviceId: string): boolean {
  return filter.startsWith(deviceTopicPrefix(deviceId)) || sparkplugSubscriptionAllowed(filter, deviceId);
}

/**
 * The device a will belongs to when the broker publishes it without the client (the
 * client's broker node died: aedes passes `null`). The topic was checked against the
 * device when the will was set (at CONNECT), so the id in it can be trusted.
 */
export function deviceOfWill(topic: string): { deviceId: string; kind: TopicKind } | undefined {
  const sensors = parseSensorsTopic(topic);
  if (sensors !== undefined) return { deviceId: sensors.deviceId, kind: 'sensors' };
  const sparkplug = parseSparkplugTopic(topic);
  return sparkplug === undefined ? undefined : { deviceId: sparkplug.edgeNodeId, kind: 'sparkplug' };
}
