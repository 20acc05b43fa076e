import type { DeviceProfile } from '../../contracts/device-profile.js';
import { decodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import type { QuarantineReason } from '../../contracts/error-codes.js';
import type { MetricCatalogue } from '../../contracts/metric-catalogue.js';
import type { IngestJobResult } from '../../contracts/queue.js';
import type { AlertChanges } from '../alerts/evaluate-batch.js';
import { QUALITY_CODES, type CanonicalReading } from '../../contracts/reading.js';
import { isSparkplugTopic, parseSparkplugTopic, sparkplugChildId } from '../../contracts/sparkplug-topic.js';
import { parseSensorsTopic, STATUS_CHANNEL } from '../../contracts/topics.js';
import type { Database, Queryable } from '../../storage/database.js';
import { findIngestDevices, setDeviceStatus } from '../../storage/ingest-devices-store.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import { insertQuarantineByReason, type QuarantineEntry } from '../../storage/quarantine-store.js';
import { keepNewestReadings, readingBatch, writeReadingBatch, type StoredReading } from '../../storage/readings-store.js';
import { decodeEnvelope, normaliseSamples, type EnvelopeOutcome } from './decode-envelope.js';
import { decodeStatus } from './decode-status.js';
import { WHOLE_MESSAGE, type Refusal } from './decode-result.js';
import { collapseUnknownMetrics } from './sparkplug/sparkplug-metrics.js';
import { advanceOrder, orderVerdict } from './sparkplug/sparkplug-order.js';
import { applySparkplugMessage } from './sparkplug/sparkplug-session.js';
import { openSparkplugState, saveSparkplugState, type SparkplugWorkingSet } from './sparkplug/sparkplug-state.js';

export interface SparkplugOrderOptions {
  /** How long one attempt waits for an edge node's earlier message to be committed. @defaultValue 5000 */
  waitMs: number;
  /** Attempts (BullMQ retries) after which messages are applied even though earlier ones never came. @defaultValue 3 */
  attempts: number;
}

export interface StoreEnvelopesDeps {
  db: Database;
  dictionary: MetricDictionary;
  catalogue: MetricCatalogue;
  /** Vendor profiles by name (DEVICE_PROFILES_FILE). */
  profiles?: ReadonlyMap<string, DeviceProfile>;
  maxFutureSkewMs: number;
  now?: () => number;
  sparkplugOrder?: SparkplugOrderOptions;
  /**
   * Issue 7: evaluates alert rules on the batch's readings inside its transaction, so
   * readings, rule state and alerts commit together (services/alerts/evaluate-batch.ts).
   */
  evaluateAlerts?: (tx: Queryable, readings: readonly CanonicalReading[]) => Promise<AlertChanges>;
  /** Called with the alerts a batch opened or cleared, after its transaction committed. */
  alertsChanged?: (changes: AlertChanges) => void;
  /** Issue 5: called with the batch's readings after its transaction committed (the live stream). */
  readingsCommitted?: (readings: readonly CanonicalReading[]) => void;
  /**
   * Issue 7: called after a batch that changed a device's connection state (a will or
   * status message, a Sparkplug birth or death) committed, so offline alerts follow at once.
   */
  sessionsChanged?: () => void;
}

/** An edge node's earlier messages are still being processed elsewhere: a transient failure, retried. */
export class SparkplugOrderPendingError extends Error {
  constructor(edges: readonly string[]) {
    super(`earlier Sparkplug messages of ${edges.join(', ')} are not committed yet; the job will be retried`);
    this.name = 'SparkplugOrderPendingError';
  }
}

class OrderWait extends Error {
  constructor(readonly edgeNodeId: string) {
    super(`waiting for earlier messages of ${edgeNodeId}`);
  }
}

function quarantineEntry(envelope: RawEnvelope, refusal: Refusal): QuarantineEntry {
  return {
    envelopeId: envelope.id, item: refusal.item, source: envelope.source, deviceId: refusal.deviceId ?? envelope.deviceId,
    topic: envelope.topic, receivedAt: new Date(envelope.receivedAtMs), reason: refusal.reason, message: refusal.message,
    payload: envelope.payload, payloadEncoding: envelope.payloadEncoding,
  };
}

function edgesOf(envelopes: readonly RawEnvelope[]): string[] {
  return [...new Set(envelopes.filter((envelope) => isSparkplugTopic(envelope.topic ?? '')).map((envelope) => envelope.deviceId))];
}

interface BatchOptions {
  deps: StoreEnvelopesDeps;
  nowMs: number;
  /** Apply Sparkplug messages even if earlier ones of their edge node are missing. */
  force: boolean;
  /** Set by the attempt that evaluated alert rules; read once the transaction committed. */
  alertChanges?: AlertChanges;
  /** The readings of the attempt that committed, for `readingsCommitted`. */
  committedReadings?: readonly CanonicalReading[];
  /** The attempt changed a device's online state, for `sessionsChanged`. */
  sessionsChanged?: boolean;
}

const STATUS_SUFFIX = `/${STATUS_CHANNEL}`;

/** Telemetry topics are parsed once, by the decoder; a suffix test keeps them from being parsed twice here. */
function isStatusTopic(topic: string | undefined): boolean {
  return topic !== undefined && topic.endsWith(STATUS_SUFFIX) && parseSensorsTopic(topic)?.channel === STATUS_CHANNEL;
}

/** A status message (`sensors/{id}/status`): sets the device's online state, or a refusal. */
async function applyStatus(tx: Queryable, envelope: RawEnvelope, options: BatchOptions): Promise<Refusal | undefined> {
  if (envelope.payloadEncoding !== 'utf8') return { item: WHOLE_MESSAGE, reason: 'payload_not_utf8', message: `a ${STATUS_CHANNEL} message is text` };
  const status = decodeStatus(decodePayload(envelope).toString('utf8'));
  if (!status.ok) return status.refusal;
  if (await setDeviceStatus(tx, envelope.deviceId, status.online, new Date(envelope.receivedAtMs))) options.sessionsChanged = true;
  return undefined;
}

function decodeSparkplug(envelope: RawEnvelope, state: SparkplugWorkingSet, known: Set<string>, devices: Map<string, { parentId: string | undefined }>, options: BatchOptions): EnvelopeOutcome {
  const topic = parseSparkplugTopic(envelope.topic ?? '');
  const edge = state.edges.get(envelope.deviceId);
  if (topic === undefined || topic.edgeNodeId !== envelope.deviceId || edge === undefined) {
    return { readings: [], refusals: [{ item: WHOLE_MESSAGE, reason: 'topic_unsupported', message: `"${envelope.topic ?? ''}" is not a Sparkplug B topic of edge node ${envelope.deviceId}` }] };
  }
  let verdict = orderVerdict(edge.order, envelope.order);
  if (verdict === 'wait' && !options.force) throw new OrderWait(edge.edgeNodeId);
  if (verdict === 'wait') verdict = 'apply';
  if (!known.has(envelope.deviceId)) {
    edge.order = advanceOrder(edge.order, envelope.order, verdict);
    return { readings: [], refusals: [{ item: WHOLE_MESSAGE, reason: 'device_unknown', message: `device "${envelope.deviceId}" is not registered` }] };
  }
  const births = state.births.get(edge.edgeNodeId) ?? new Map();
  const changed = state.changedBirths.get(edge.edgeNodeId) ?? new Set();
  const outcome = applySparkplugMessage(edge, topic, envelope, verdict, {
    nowMs: options.nowMs, maxFutureSkewMs: options.deps.maxFutureSkewMs, devices, births, changedBirths: changed,
  });
  state.effects.push(...outcome.effects);
  const normalised = normaliseSamples(outcome.samples, outcome.refusals, {
    deviceId: envelope.deviceId, receivedAt: new Date(envelope.receivedAtMs), catalogue: options.deps.catalogue,
  });
  return { readings: normalised.readings, refusals: collapseUnknownMetrics(normalised.refusals) };
}

async function storeBatch(tx: Queryable, envelopes: readonly RawEnvelope[], options: BatchOptions): Promise<IngestJobResult> {
  const { deps } = options;
  const childIds = envelopes.flatMap((envelope) => {
    const topic = parseSparkplugTopic(envelope.topic ?? '');
    const id = topic?.deviceId === undefined ? undefined : sparkplugChildId(topic.edgeNodeId, topic.deviceId);
    return id === undefined ? [] : [id];
  });
  const devices = await findIngestDevices(tx, [...new Set([...envelopes.map((envelope) => envelope.deviceId), ...childIds])]);
  const known = new Set(devices.keys());
  const parents = new Map([...devices].map(([id, device]) => [id, { parentId: device.parentId }]));
  const edges = edgesOf(envelopes);
  const sparkplug = edges.length > 0 ? await openSparkplugState(tx, edges) : undefined;

  const readings: CanonicalReading[] = [];
  const quarantine: QuarantineEntry[] = [];
  for (const envelope of envelopes) {
    let outcome: EnvelopeOutcome;
    if (sparkplug !== undefined && isSparkplugTopic(envelope.topic ?? '')) {
      outcome = decodeSparkplug(envelope, sparkplug, known, parents, options);
    } else {
      const device = devices.get(envelope.deviceId);
      if (device === undefined) {
        quarantine.push(quarantineEntry(envelope, { item: WHOLE_MESSAGE, reason: 'device_unknown', message: `device "${envelope.deviceId}" is not registered` }));
        continue;
      }
      if (isStatusTopic(envelope.topic)) {
        const refusal = await applyStatus(tx, envelope, options);
        if (refusal !== undefined) quarantine.push(quarantineEntry(envelope, refusal));
        continue;
      }
      const profile = device.profile === undefined ? undefined : (deps.profiles?.get(device.profile) ?? { missing: device.profile });
      outcome = decodeEnvelope(envelope, { catalogue: deps.catalogue, nowMs: options.nowMs, maxFutureSkewMs: deps.maxFutureSkewMs, profile });
    }
    for (const refusal of outcome.refusals) quarantine.push(quarantineEntry(envelope, refusal));
    readings.push(...outcome.readings);
  }
  if (sparkplug !== undefined) {
    await saveSparkplugState(tx, sparkplug);
    if (sparkplug.effects.some((effect) => effect.kind === 'online' || effect.kind === 'children-offline')) options.sessionsChanged = true;
  }

  // Children registered by a DBIRTH of this job have their numbers only now.
  const missing = [...new Set(readings.map((reading) => reading.deviceId))].filter((id) => !devices.has(id));
  const registered = await findIngestDevices(tx, missing);
  const rows: StoredReading[] = [];
  for (const reading of readings) {
    const deviceNum = (devices.get(reading.deviceId) ?? registered.get(reading.deviceId))?.num;
    const metricNum = deps.dictionary.numOf(reading.metric);
    if (deviceNum === undefined) throw new Error(`device "${reading.deviceId}" has no storage number after registration`);
    if (metricNum === undefined) {
      // The catalogue knows the metric but the dictionary was loaded before it existed.
      throw new Error(`metric "${reading.metric}" has no storage number; restart to reload the dictionary`);
    }
    rows.push({ time: reading.time, deviceNum, metricNum, value: reading.value, qualityCode: QUALITY_CODES[reading.quality], sourceQuality: reading.sourceQuality });
  }
  const batch = readingBatch(rows);
  const stored = await writeReadingBatch(tx, batch);
  options.committedReadings = readings;
  if (deps.evaluateAlerts !== undefined) options.alertChanges = await deps.evaluateAlerts(tx, readings);
  const byReason = await insertQuarantineByReason(tx, quarantine);
  // Last: its row locks make concurrent jobs with the same series wait until this one commits.
  await keepNewestReadings(tx, batch);
  const quarantinedByReason = Object.fromEntries(byReason) as Partial<Record<QuarantineReason, number>>;
  const quarantined = [...byReason.values()].reduce((sum, count) => sum + count, 0);
  return { stored, duplicates: rows.length - stored, quarantined, quarantinedByReason };
}

/**
 * The ingest step for one job: decode and normalise every envelope, then write the good
 * readings, the quarantine entries and Sparkplug state in one transaction. Running it
 * twice on the same job (a retry after a crash) changes nothing the first run committed.
 * `attemptsMade` is the job's earlier attempts, for the Sparkplug ordering give-up.
 */
export async function storeEnvelopes(envelopes: readonly RawEnvelope[], deps: StoreEnvelopesDeps, attemptsMade = 0): Promise<IngestJobResult> {
  const nowMs = deps.now?.() ?? Date.now();
  const { waitMs, attempts } = deps.sparkplugOrder ?? { waitMs: 5000, attempts: 3 };
  const started = Date.now();
  let force = false;
  let delayMs = 10;
  for (;;) {
    try {
      const options: BatchOptions = { deps, nowMs, force };
      const result = await deps.db.transaction((tx) => storeBatch(tx, envelopes, options));
      // Readings before the alerts they caused: the live stream shows the value, then the alarm.
      if (options.committedReadings !== undefined) deps.readingsCommitted?.(options.committedReadings);
      if (options.alertChanges !== undefined) deps.alertsChanged?.(options.alertChanges);
      if (options.sessionsChanged === true) deps.sessionsChanged?.();
      return result;
    } catch (error) {
      if (!(error instanceof OrderWait)) throw error;
      if (Date.now() - started >= waitMs) {
        if (attemptsMade + 1 < attempts) throw new SparkplugOrderPendingError(edgesOf(envelopes));
        force = true; // the last attempt: apply, and let the seq check report what is missing
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 250);
    }
  }
}
