import { decodePayload, type RawEnvelope } from '../../../contracts/envelope.js';
import { sparkplugChildId, type SparkplugTopic } from '../../../contracts/sparkplug-topic.js';
import { NOTICE, WHOLE_MESSAGE, type DecodedSample, type Refusal } from '../decode-result.js';
import { bdSeqOf, birthOf, samplesOf } from './sparkplug-metrics.js';
import { decodeSparkplugPayload, type SparkplugPayload } from './sparkplug-payload.js';
import { advanceOrder, type EdgeOrder, type OrderVerdict } from './sparkplug-order.js';

/**
 * One edge node's Sparkplug session, applied message by message (Eclipse Sparkplug 3.0):
 * NBIRTH/DBIRTH define the metrics and aliases of the node and its devices, NDATA/DDATA
 * are read through them, `seq` is checked, NDEATH/DDEATH end a session. Node metrics
 * belong to device `{edge}`, Sparkplug device `{dev}` to device `{edge}.{dev}`.
 */

export interface MetricDefinitionAtBirth {
  name: string;
  datatype: number;
  unit?: string;
}

/** What a BIRTH said, kept per edge node (device '') and per device: shared storage, not worker memory. */
export interface BirthState {
  born: boolean;
  /** By alias (decimal). */
  aliases: Record<string, MetricDefinitionAtBirth>;
  /** By name, for DATA metrics sent by name. */
  names: Record<string, MetricDefinitionAtBirth>;
}

export interface EdgeState {
  edgeNodeId: string;
  groupId: string | undefined;
  bdSeq: number | undefined;
  lastSeq: number | undefined;
  order: EdgeOrder;
}

export type SparkplugEffect =
  | { kind: 'register-child'; deviceId: string; edgeNodeId: string }
  | { kind: 'online'; deviceId: string; online: boolean; atMs: number }
  | { kind: 'children-offline'; edgeNodeId: string; atMs: number };

export interface SessionContext {
  nowMs: number;
  maxFutureSkewMs: number;
  /** Registered devices among this edge node's children, with their parent (updated as children register). */
  devices: Map<string, { parentId: string | undefined }>;
  /** All births of the edge node: the node ('') and its devices; BIRTH and DEATH change them. */
  births: Map<string, BirthState>;
  /** Keys of `births` changed, to be saved. */
  changedBirths: Set<string>;
}

export interface SessionOutcome {
  samples: DecodedSample[];
  refusals: Refusal[];
  effects: SparkplugEffect[];
}

/** A notice about a message whose readings are stored; each has its own item (−2, −3, …), so none is lost. */
function addNotice(outcome: SessionOutcome, reason: Refusal['reason'], message: string): void {
  const notices = outcome.refusals.filter((refusal) => refusal.item <= NOTICE).length;
  outcome.refusals.push({ item: NOTICE - notices, reason, message });
}

/** `seq` of a message after an NBIRTH: one more than the last, 255 wrapping to 0 (§6.4.1). */
function checkSeq(edge: EdgeState, payload: SparkplugPayload, topic: SparkplugTopic, nodeBorn: boolean, outcome: SessionOutcome): void {
  const notice = (reason: Refusal['reason'], message: string) => addNotice(outcome, reason, message);
  if (payload.seq === undefined || payload.seq > 255n) {
    notice('payload_schema', `${topic.messageType} has ${payload.seq === undefined ? 'no seq' : `seq ${payload.seq}`}; Sparkplug requires 0–255 on every message but NDEATH`);
    return;
  }
  const seq = Number(payload.seq);
  if (topic.messageType === 'NBIRTH') {
    if (seq !== 0) notice('payload_schema', `NBIRTH has seq ${seq}; Sparkplug 3.0 requires 0`);
  } else if (nodeBorn && edge.lastSeq !== undefined && seq !== (edge.lastSeq + 1) % 256) {
    const missing = (seq - edge.lastSeq - 1 + 256) % 256;
    notice('sparkplug_seq_gap', `seq ${seq} follows ${edge.lastSeq}: ${missing} message(s) of edge node ${edge.edgeNodeId} were lost`);
  }
  edge.lastSeq = seq;
}

function setBirth(context: SessionContext, key: string, birth: BirthState): void {
  context.births.set(key, birth);
  context.changedBirths.add(key);
}

/**
 * Applies one message to the edge node's state (mutated in place, like `context.births`)
 * and returns its readings, refusals and effects on devices. Never throws on device data.
 */
export function applySparkplugMessage(
  edge: EdgeState, topic: SparkplugTopic, envelope: RawEnvelope, verdict: OrderVerdict, context: SessionContext,
): SessionOutcome {
  const outcome: SessionOutcome = { samples: [], refusals: [], effects: [] };
  const whole = (reason: Refusal['reason'], message: string, deviceId?: string) =>
    outcome.refusals.push({ item: WHOLE_MESSAGE, reason, message, ...(deviceId === undefined ? {} : { deviceId }) });
  if (verdict === 'duplicate') return outcome;
  const inOrder = verdict === 'apply';
  edge.order = advanceOrder(edge.order, envelope.order, verdict);
  const type = topic.messageType;
  if (type === 'NCMD' || type === 'DCMD' || type === 'STATE') {
    whole('topic_unsupported', `${type} messages are commands and host state for edge nodes, not telemetry; nothing is stored`);
    return outcome;
  }
  if (verdict === 'stale' && type !== 'NDEATH') {
    whole('sparkplug_out_of_order', `${type} from an earlier connection of ${edge.edgeNodeId} arrived after its new NBIRTH; not applied`);
    return outcome;
  }
  const decoded = decodeSparkplugPayload(decodePayload(envelope));
  if (!decoded.ok) {
    whole('payload_not_protobuf', decoded.message);
    return outcome;
  }
  const payload = decoded.payload;
  const atMs = envelope.receivedAtMs;
  const node = context.births.get('');

  if (type === 'NDEATH') {
    const bdSeq = bdSeqOf(payload);
    if (edge.bdSeq !== undefined && bdSeq !== edge.bdSeq) {
      addNotice(outcome, 'sparkplug_stale_death', `NDEATH with bdSeq ${bdSeq ?? '(none)'} does not match the current NBIRTH's bdSeq ${edge.bdSeq}; ${edge.edgeNodeId} stays online`);
      return outcome;
    }
    for (const [key, birth] of context.births) if (birth.born) setBirth(context, key, { ...birth, born: false });
    outcome.effects.push({ kind: 'online', deviceId: edge.edgeNodeId, online: false, atMs }, { kind: 'children-offline', edgeNodeId: edge.edgeNodeId, atMs });
    return outcome;
  }
  if (inOrder) checkSeq(edge, payload, topic, type === 'NBIRTH' || node?.born === true, outcome);

  if (type === 'NBIRTH' || type === 'NDATA') {
    if (type === 'NBIRTH') {
      edge.groupId = topic.groupId;
      edge.bdSeq = bdSeqOf(payload);
      if (edge.bdSeq === undefined) addNotice(outcome, 'payload_schema', 'NBIRTH has no bdSeq metric (Sparkplug 3.0 §6.4.3)');
      // A new session: device aliases of the old one mean nothing until their DBIRTH.
      for (const [key, birth] of context.births) if (key !== '' && birth.born) setBirth(context, key, { ...birth, born: false });
      setBirth(context, '', birthOf(payload.metrics));
      outcome.effects.push({ kind: 'online', deviceId: edge.edgeNodeId, online: true, atMs });
    }
    samplesOf(payload, context.births.get(''), edge.edgeNodeId, context, outcome);
    return outcome;
  }

  // DBIRTH, DDATA, DDEATH: a Sparkplug device under the edge node.
  const childId = sparkplugChildId(edge.edgeNodeId, topic.deviceId ?? '');
  if (childId === undefined) {
    whole('device_id_invalid', `Sparkplug device "${(topic.deviceId ?? '').slice(0, 64)}" of ${edge.edgeNodeId} does not make a valid device id`);
    return outcome;
  }
  const registered = context.devices.get(childId);
  if (registered !== undefined && registered.parentId !== edge.edgeNodeId) {
    whole('device_conflict', `device ${childId} exists and is not a Sparkplug device of edge node ${edge.edgeNodeId}`, childId);
    return outcome;
  }
  const key = topic.deviceId ?? '';
  if (type === 'DBIRTH') {
    if (registered === undefined) {
      outcome.effects.push({ kind: 'register-child', deviceId: childId, edgeNodeId: edge.edgeNodeId });
      context.devices.set(childId, { parentId: edge.edgeNodeId });
    }
    setBirth(context, key, birthOf(payload.metrics));
    outcome.effects.push({ kind: 'online', deviceId: childId, online: true, atMs });
    samplesOf(payload, context.births.get(key), childId, context, outcome);
    return outcome;
  }
  if (registered === undefined) {
    whole('device_unknown', `Sparkplug device ${childId} has not sent a DBIRTH, so it is not registered`, childId);
    return outcome;
  }
  if (type === 'DDEATH') {
    const birth = context.births.get(key);
    if (birth !== undefined) setBirth(context, key, { ...birth, born: false });
    outcome.effects.push({ kind: 'online', deviceId: childId, online: false, atMs });
    return outcome;
  }
  samplesOf(payload, context.births.get(key), childId, context, outcome);
  return outcome;
}
