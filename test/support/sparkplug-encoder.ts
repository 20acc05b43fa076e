import sparkplugPayload from 'sparkplug-payload';
import tahu from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/**
 * Sparkplug B payloads as field devices produce them: Eclipse Tahu's own encoder (npm
 * `sparkplug-payload`). `rawPayload` writes protobuf fields directly, for encodings the
 * Tahu encoder does not produce (Int8 in its own 8-bit two's complement, UInt32 in the
 * uint32 field as Sparkplug 3.0 says, metrics without a datatype).
 */
const encoder = sparkplugPayload.get('spBv1.0');
if (encoder === null) throw new Error('sparkplug-payload has no spBv1.0 encoder');

export type TahuPayload = Parameters<typeof encoder.encodePayload>[0];
export type TahuMetric = NonNullable<TahuPayload['metrics']>[number];

export function tahuPayload(payload: TahuPayload): Buffer {
  return Buffer.from(encoder!.encodePayload(payload));
}

export function rawPayload(payload: tahu.org.eclipse.tahu.protobuf.IPayload): Buffer {
  const Payload = tahu.org.eclipse.tahu.protobuf.Payload;
  return Buffer.from(Payload.encode(Payload.create(payload)).finish());
}

/** An NBIRTH with the metrics Sparkplug 3.0 requires (bdSeq, Node Control/Rebirth) plus `metrics`. */
export function nbirth(bdSeq: number, metrics: TahuMetric[], timestamp = Date.now()): Buffer {
  return tahuPayload({
    timestamp,
    seq: 0,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: bdSeq, timestamp },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp },
      ...metrics,
    ],
  });
}

export function ndeath(bdSeq: number): Buffer {
  return tahuPayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
}
