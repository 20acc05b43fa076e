import type { RawEnvelope } from '../../contracts/envelope.js';
import type { MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { IngestJobResult } from '../../contracts/queue.js';
import { QUALITY_CODES } from '../../contracts/reading.js';
import type { Database } from '../../storage/database.js';
import { resolveDeviceNums } from '../../storage/devices-store.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import { insertQuarantine, type QuarantineEntry } from '../../storage/quarantine-store.js';
import { insertReadings, type StoredReading } from '../../storage/readings-store.js';
import { decodeEnvelope, type EnvelopeOutcome } from './decode-envelope.js';
import type { Refusal } from './decode-result.js';

export interface StoreEnvelopesDeps {
  db: Database;
  dictionary: MetricDictionary;
  catalogue: ReadonlyMap<string, MetricDefinition>;
  maxFutureSkewMs: number;
  now?: () => number;
}

function quarantineEntry(envelope: RawEnvelope, refusal: Refusal): QuarantineEntry {
  return {
    envelopeId: envelope.id,
    item: refusal.item,
    source: envelope.source,
    deviceId: envelope.deviceId,
    topic: envelope.topic,
    receivedAt: new Date(envelope.receivedAtMs),
    reason: refusal.reason,
    message: refusal.message,
    payload: envelope.payload,
    payloadEncoding: envelope.payloadEncoding,
  };
}

/**
 * The ingest step for one job: decode and normalise every envelope, then write the
 * good readings and the quarantine entries in one transaction. Running it twice on
 * the same job (a retry after a crash) changes nothing the first run committed.
 */
export async function storeEnvelopes(envelopes: readonly RawEnvelope[], deps: StoreEnvelopesDeps): Promise<IngestJobResult> {
  const nowMs = deps.now?.() ?? Date.now();
  const outcomes: [RawEnvelope, EnvelopeOutcome][] = envelopes.map((envelope) => [
    envelope,
    decodeEnvelope(envelope, { catalogue: deps.catalogue, nowMs, maxFutureSkewMs: deps.maxFutureSkewMs }),
  ]);

  return deps.db.transaction(async (tx) => {
    const deviceNums = await resolveDeviceNums(tx, [...new Set(envelopes.map((envelope) => envelope.deviceId))]);
    const rows: StoredReading[] = [];
    const quarantine: QuarantineEntry[] = [];
    for (const [envelope, outcome] of outcomes) {
      const deviceNum = deviceNums.get(envelope.deviceId);
      if (deviceNum === undefined) {
        quarantine.push(quarantineEntry(envelope, {
          item: -1,
          reason: 'device_unknown',
          message: `device "${envelope.deviceId}" is not registered`,
        }));
        continue;
      }
      for (const refusal of outcome.refusals) quarantine.push(quarantineEntry(envelope, refusal));
      for (const reading of outcome.readings) {
        const metricNum = deps.dictionary.numOf(reading.metric);
        if (metricNum === undefined) {
          // The catalogue knows the metric but the dictionary was loaded before it existed.
          throw new Error(`metric "${reading.metric}" has no storage number; restart to reload the dictionary`);
        }
        rows.push({
          time: reading.time,
          deviceNum,
          metricNum,
          value: reading.value,
          qualityCode: QUALITY_CODES[reading.quality],
          sourceQuality: reading.sourceQuality,
        });
      }
    }
    const stored = await insertReadings(tx, rows);
    await insertQuarantine(tx, quarantine);
    return { stored, duplicates: rows.length - stored, quarantined: quarantine.length };
  });
}
