import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePayload, type ConnectionOrder, type RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { Database } from '../../storage/database.js';
import { findDevice, insertDevice } from '../../storage/devices-store.js';
import { loadMetricDictionary, type MetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate } from '../../storage/migrate.js';
import type { OwnedDatabase } from '../../test/support/storage-contract-modes.js';
import { STORAGE_MODES } from '../../test/support/storage-modes.js';
import { nbirth, ndeath, rawPayload, tahuPayload, type TahuMetric } from '../../test/support/sparkplug-encoder.js';
import { SparkplugOrderPendingError, storeEnvelopes, type StoreEnvelopesDeps } from './store-envelopes.js';

/*
 * Sparkplug B through the ingest step on each database mode: state kept in tables
 * between jobs, jobs run concurrently and out of order, births, aliases, sequence gaps,
 * deaths. Payloads come from Eclipse Tahu's encoder.
 */

const T0 = Date.parse('2026-11-21T00:00:00Z');

describe.each(STORAGE_MODES)('Sparkplug B ingest: $name', (mode) => {
  let owned: OwnedDatabase | undefined;
  let db: Database;
  let dictionary: MetricDictionary;
  const deps = (extra: Partial<StoreEnvelopesDeps> = {}): StoreEnvelopesDeps => ({
    db, dictionary, catalogue: BUILTIN_CATALOGUE, maxFutureSkewMs: 600_000, now: () => T0 + 3_600_000, ...extra,
  });

  beforeAll(async () => {
    owned = await mode.createDatabase();
    db = await owned.open();
    await migrate(db);
    dictionary = await loadMetricDictionary(db, [...BUILTIN_CATALOGUE.metrics.keys()]);
  });
  afterAll(async () => owned?.dispose());

  async function edgeNode(): Promise<string> {
    const id = `edge-${randomUUID().slice(0, 8)}`;
    await insertDevice(db, { id, domain: 'grid', name: 'substation gateway', secretHash: 'x' });
    return id;
  }

  /** One MQTT connection of an edge node: its messages numbered as the gateway numbers them. */
  function connection(edge: string, connectedAtMs = T0) {
    const connectionId = randomUUID();
    let index = 0;
    return (type: string, payload: Buffer, device?: string, overrides: Partial<ConnectionOrder> = {}): RawEnvelope => ({
      id: randomUUID(), source: 'mqtt', deviceId: edge, topic: `spBv1.0/Tianjin/${type}/${edge}${device === undefined ? '' : `/${device}`}`,
      receivedAtMs: T0 + index * 1000, ...encodePayload(payload), order: { connectionId, connectedAtMs, index: index++, ...overrides },
    });
  }

  async function readings(deviceIds: string[]) {
    const result = await db.query<{ device: string; metric: string; value: number; quality: number; source_quality: number | null; time: Date }>(
      `SELECT d.id AS device, m.key AS metric, r.value, r.quality, r.source_quality, r.time FROM readings r
       JOIN devices d ON d.num = r.device_num JOIN metrics m ON m.num = r.metric_num
       WHERE d.id = ANY($1::text[]) ORDER BY r.time, d.id, m.key`,
      [deviceIds],
    );
    return result.rows.map((row) => [row.device, row.metric, row.value, row.quality, row.source_quality]);
  }

  async function quarantine(envelopes: RawEnvelope[]) {
    const result = await db.query<{ device_id: string; reason: string; message: string; item: number }>(
      'SELECT device_id, reason, message, item FROM quarantine WHERE envelope_id = ANY($1::text[]) ORDER BY id',
      [envelopes.map((envelope) => envelope.id)],
    );
    return result.rows;
  }

  const birthMetrics = (timestamp: number): TahuMetric[] => [
    { name: 'Inputs/voltage', alias: 1, type: 'Float', value: 231.5, timestamp },
    { name: 'Inputs/energy_import', alias: 2, type: 'Double', value: 1234567, timestamp, properties: { engUnit: { type: 'String', value: 'Wh' } } },
    { name: 'Inputs/frequency', alias: 3, type: 'Float', value: 50.01, timestamp, properties: { Quality: { type: 'Int32', value: 500 } } },
  ];

  it('reads births, registers the device under the edge node, and resolves alias-only data in the same job', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    const batch = [
      send('NBIRTH', nbirth(0, birthMetrics(T0), T0)),
      send('DBIRTH', tahuPayload({ timestamp: T0, seq: 1, metrics: [
        { name: 'Sensors/tilt', alias: 10, type: 'Int16', value: -5, timestamp: T0 },
        { name: 'Sensors/cover_open', alias: 11, type: 'Boolean', value: false, timestamp: T0 },
      ] }), 'well7'),
      send('NDATA', rawPayload({ timestamp: T0 + 60_000, seq: 2, metrics: [{ alias: 1, floatValue: 229.75 }, { alias: 2, doubleValue: 1235000 }] })),
      send('DDATA', rawPayload({ timestamp: T0 + 60_000, seq: 3, metrics: [{ alias: 10, intValue: 0xfffffffd }, { alias: 11, booleanValue: true }] }), 'well7'),
    ];
    const result = await storeEnvelopes(batch, deps());
    expect(result).toEqual({ stored: 9, duplicates: 0, quarantined: 0, quarantinedByReason: {} });
    const child = `${edge}.well7`;
    // 1234567 Wh = 1234.567 kWh; Int16 0xFFFD = −3; Quality 500 (stale) is stored as uncertain (1) with its code.
    expect(await readings([edge, child])).toEqual([
      [edge, 'energy_import', 1234.567, 0, null], [edge, 'frequency', 50.01, 1, 500], [edge, 'voltage', 231.5, 0, null],
      [child, 'cover_open', 0, 0, null], [child, 'tilt', -5, 0, null],
      [edge, 'energy_import', 1235, 0, null], [edge, 'voltage', 229.75, 0, null],
      [child, 'cover_open', 1, 0, null], [child, 'tilt', -3, 0, null],
    ]);
    expect(await findDevice(db, child)).toMatchObject({ parentId: edge, domain: 'grid', online: true });
    expect(await findDevice(db, edge)).toMatchObject({ online: true });
  });

  it('applies an edge node’s messages in order when their jobs run concurrently and out of order', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    const birth = send('NBIRTH', nbirth(1, birthMetrics(T0), T0));
    const data = send('NDATA', rawPayload({ timestamp: T0 + 1000, seq: 1, metrics: [{ alias: 1, floatValue: 230 }] }));
    // The DATA job starts first; its worker must wait for the BIRTH job, not quarantine the alias.
    const [dataResult, birthResult] = await Promise.all([
      storeEnvelopes([data], deps()),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => storeEnvelopes([birth], deps())),
    ]);
    expect(birthResult.stored).toBe(3);
    expect(dataResult).toEqual({ stored: 1, duplicates: 0, quarantined: 0, quarantinedByReason: {} });
    expect(await quarantine([birth, data])).toEqual([]);
  });

  it('reports a sequence gap, stores the message, and reports nothing for the wrap from 255 to 0', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    const data = (seq: number, value: number) => send('NDATA', rawPayload({ timestamp: T0 + seq * 1000, seq, metrics: [{ alias: 1, floatValue: value }] }));
    const batch = [send('NBIRTH', nbirth(2, birthMetrics(T0), T0)), data(1, 230), data(4, 231)];
    const result = await storeEnvelopes(batch, deps());
    expect(result.quarantinedByReason).toEqual({ sparkplug_seq_gap: 1 });
    expect(await quarantine(batch)).toEqual([
      { device_id: edge, reason: 'sparkplug_seq_gap', item: -2, message: `seq 4 follows 1: 2 message(s) of edge node ${edge} were lost` },
    ]);
    expect((await readings([edge])).filter(([, metric]) => metric === 'voltage').map(([, , value]) => value)).toEqual([231.5, 230, 231]);

    const wrap = [];
    for (let seq = 5; seq <= 255; seq += 1) wrap.push(data(seq, 230));
    wrap.push(data(0, 232));
    expect((await storeEnvelopes(wrap, deps())).quarantinedByReason).toEqual({});
  });

  it('marks the edge node and its devices offline on NDEATH, and ignores the death of an earlier session', async () => {
    const edge = await edgeNode();
    const first = connection(edge, T0);
    await storeEnvelopes([
      first('NBIRTH', nbirth(3, birthMetrics(T0), T0)),
      first('DBIRTH', tahuPayload({ timestamp: T0, seq: 1, metrics: [{ name: 'x/tilt', alias: 10, type: 'Float', value: 1 }] }), 'well8'),
    ], deps());
    const stale = first('NDEATH', ndeath(2));
    expect((await storeEnvelopes([stale], deps())).quarantinedByReason).toEqual({ sparkplug_stale_death: 1 });
    expect(await findDevice(db, edge)).toMatchObject({ online: true });

    const death = first('NDEATH', ndeath(3));
    await storeEnvelopes([death], deps());
    expect(await findDevice(db, edge)).toMatchObject({ online: false });
    expect(await findDevice(db, `${edge}.well8`)).toMatchObject({ online: false });

    // After the death, the device's aliases mean nothing until a new birth.
    const second = connection(edge, T0 + 10_000);
    const batch = [
      second('NBIRTH', nbirth(4, birthMetrics(T0 + 10_000), T0 + 10_000)),
      second('DDATA', rawPayload({ timestamp: T0 + 11_000, seq: 1, metrics: [{ alias: 10, floatValue: 2 }] }), 'well8'),
      second('DDEATH', tahuPayload({ timestamp: T0 + 12_000, seq: 2 }), 'well8'),
    ];
    await storeEnvelopes(batch, deps());
    expect((await quarantine(batch)).map((row) => [row.device_id, row.reason])).toEqual([[`${edge}.well8`, 'sparkplug_alias_unknown']]);
    expect(await findDevice(db, edge)).toMatchObject({ online: true });
    expect(await findDevice(db, `${edge}.well8`)).toMatchObject({ online: false });
  });

  it('refuses data of devices that were never born, ids that clash, and commands', async () => {
    const edge = await edgeNode();
    await insertDevice(db, { id: `${edge}.rogue`, domain: 'safety', name: 'not a child', secretHash: 'x' });
    const send = connection(edge);
    const batch = [
      send('NBIRTH', nbirth(0, birthMetrics(T0), T0)),
      send('DDATA', rawPayload({ seq: 1, metrics: [{ alias: 1, floatValue: 1 }] }), 'ghost'),
      send('DBIRTH', tahuPayload({ seq: 2, metrics: [{ name: 'tilt', alias: 1, type: 'Float', value: 1 }] }), 'rogue'),
      send('DBIRTH', tahuPayload({ seq: 3, metrics: [] }), 'bad id with spaces'),
      send('NDATA', rawPayload({ seq: 4, metrics: [{ alias: 99, floatValue: 1 }, { name: 'Inputs/unobtainium', datatype: 9, floatValue: 1 }] })),
      send('NCMD', tahuPayload({ metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })),
      send('NDATA', Buffer.from('not protobuf at all')),
    ];
    await storeEnvelopes(batch, deps());
    expect((await quarantine(batch)).map((row) => [row.device_id, row.reason])).toEqual([
      [`${edge}.ghost`, 'device_unknown'], [`${edge}.rogue`, 'device_conflict'], [edge, 'device_id_invalid'],
      [edge, 'sparkplug_alias_unknown'], [edge, 'metric_unknown'], [edge, 'topic_unsupported'], [edge, 'payload_not_protobuf'],
    ]);
    expect(await findDevice(db, `${edge}.rogue`)).toMatchObject({ parentId: undefined, domain: 'safety' });
  });

  it('keeps every notice about one message', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    // seq 3 where an NBIRTH must have 0, and no bdSeq metric: two notices, both kept, the readings stored.
    const birth = send('NBIRTH', tahuPayload({ timestamp: T0, seq: 3, metrics: birthMetrics(T0) }));
    expect(await storeEnvelopes([birth], deps())).toMatchObject({ stored: 3, quarantinedByReason: { payload_schema: 2 } });
    expect((await quarantine([birth])).map((row) => [row.item, row.message])).toEqual([
      [-2, 'NBIRTH has seq 3; Sparkplug 3.0 requires 0'], [-3, 'NBIRTH has no bdSeq metric (Sparkplug 3.0 §6.4.3)'],
    ]);
  });

  it('names a message’s unknown metrics in one entry when there are many (PLC tags that are not catalogue metrics)', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    const tags: TahuMetric[] = Array.from({ length: 15 }, (_, i) => ({ name: `Tags/t${i}`, alias: 100 + i, type: 'Float', value: i }));
    const birth = send('NBIRTH', nbirth(0, [...birthMetrics(T0), ...tags], T0));
    const result = await storeEnvelopes([birth], deps());
    expect(result).toMatchObject({ stored: 3, quarantinedByReason: { metric_unknown: 1 } });
    expect((await quarantine([birth]))[0]?.message).toBe(`15 metrics are not in the metric catalogue: ${tags.map((tag) => tag.name).join(', ')}`);
  });

  it('does not apply messages of an earlier connection that arrive after the new one’s birth', async () => {
    const edge = await edgeNode();
    const old = connection(edge, T0);
    const fresh = connection(edge, T0 + 60_000);
    await storeEnvelopes([old('NBIRTH', nbirth(1, birthMetrics(T0), T0))], deps());
    const oldData = old('NDATA', rawPayload({ seq: 1, metrics: [{ alias: 1, floatValue: 1 }] }));
    const oldDeath = old('NDEATH', ndeath(1));
    await storeEnvelopes([fresh('NBIRTH', nbirth(2, birthMetrics(T0 + 60_000), T0 + 60_000))], deps());
    await storeEnvelopes([oldData, oldDeath], deps());
    expect((await quarantine([oldData, oldDeath])).map((row) => row.reason)).toEqual(['sparkplug_out_of_order', 'sparkplug_stale_death']);
    expect(await findDevice(db, edge)).toMatchObject({ online: true });
  });

  it('retries while an earlier message is missing, then applies and reports the gap', async () => {
    const edge = await edgeNode();
    const send = connection(edge);
    const batch = [send('NBIRTH', nbirth(0, birthMetrics(T0), T0))];
    await storeEnvelopes(batch, deps());
    send('NDATA', Buffer.alloc(0)); // accepted by the gateway, but its job never comes
    const late = send('NDATA', rawPayload({ timestamp: T0 + 5000, seq: 2, metrics: [{ alias: 1, floatValue: 233 }] }));
    const order = { waitMs: 100, attempts: 2 };
    await expect(storeEnvelopes([late], deps({ sparkplugOrder: order }), 0)).rejects.toBeInstanceOf(SparkplugOrderPendingError);
    const result = await storeEnvelopes([late], deps({ sparkplugOrder: order }), 1);
    expect(result).toMatchObject({ stored: 1, quarantinedByReason: { sparkplug_seq_gap: 1 } });
    // Run again (a retry after a crash past the commit): nothing new, nothing reported twice.
    expect(await storeEnvelopes([late], deps({ sparkplugOrder: order }), 2)).toEqual({ stored: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {} });
  });
});
