import { isValidDeviceId } from './topics.js';

/**
 * The Sparkplug B topic namespace (Eclipse Sparkplug 3.0, §4.1 "Topic Namespace Elements"):
 * `spBv1.0/{group_id}/{message_type}/{edge_node_id}[/{device_id}]`. An edge node
 * connects with the credentials of the registered device whose id is its edge node id.
 */

export const SPARKPLUG_NAMESPACE = 'spBv1.0';

const NODE_TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD', 'STATE'] as const;
const DEVICE_TYPES = ['DBIRTH', 'DDATA', 'DDEATH', 'DCMD'] as const;
export const SPARKPLUG_MESSAGE_TYPES = [...NODE_TYPES, ...DEVICE_TYPES] as const;
export type SparkplugMessageType = (typeof SPARKPLUG_MESSAGE_TYPES)[number];

export interface SparkplugTopic {
  groupId: string;
  messageType: SparkplugMessageType;
  edgeNodeId: string;
  /** Present for DBIRTH, DDATA, DDEATH and DCMD. */
  deviceId: string | undefined;
}

function validLevel(level: string | undefined): level is string {
  // MQTT topic levels of Sparkplug ids: non-empty UTF-8 without wildcards (Sparkplug 3.0 §4.1.1).
  return level !== undefined && level !== '' && !/[+#]/.test(level);
}

export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  // Most topics a worker sees are not Sparkplug: refuse them before splitting.
  if (!topic.startsWith(`${SPARKPLUG_NAMESPACE}/`)) return undefined;
  const [namespace, groupId, type, edgeNodeId, deviceId, ...rest] = topic.split('/');
  if (namespace !== SPARKPLUG_NAMESPACE || rest.length > 0 || !validLevel(groupId) || !validLevel(edgeNodeId)) return undefined;
  if ((NODE_TYPES as readonly string[]).includes(type ?? '')) {
    return deviceId === undefined ? { groupId, messageType: type as SparkplugMessageType, edgeNodeId, deviceId: undefined } : undefined;
  }
  if ((DEVICE_TYPES as readonly string[]).includes(type ?? '') && validLevel(deviceId)) {
    return { groupId, messageType: type as SparkplugMessageType, edgeNodeId, deviceId };
  }
  return undefined;
}

export function isSparkplugTopic(topic: string): boolean {
  return topic.startsWith(`${SPARKPLUG_NAMESPACE}/`);
}

/** The platform device of a Sparkplug device: `{edge}.{device}`; `undefined` when that is not a valid id. */
export function sparkplugChildId(edgeNodeId: string, deviceId: string): string | undefined {
  const id = `${edgeNodeId}.${deviceId}`;
  return isValidDeviceId(id) ? id : undefined;
}

/**
 * Subscriptions an edge node needs: its own NCMD/DCMD topics (any group, `+` allowed
 * in the group and type levels, never in its edge id) and host application STATE.
 */
export function sparkplugSubscriptionAllowed(filter: string, edgeNodeId: string): boolean {
  const levels = filter.split('/');
  if (levels[0] !== SPARKPLUG_NAMESPACE) return false;
  if (levels[1] === 'STATE') return true;
  return levels.length >= 4 && levels[1] !== '#' && levels[2] !== '#' && levels[3] === edgeNodeId;
}
