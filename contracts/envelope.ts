import { isUtf8 } from 'node:buffer';

/**
 * The raw envelope: what a gateway hands to the queue for every accepted message.
 * It carries the payload untouched, so a decoding bug can be fixed and the message
 * decoded again; decoding and normalisation happen in the ingest worker only.
 */

/** Which gateway accepted the message. */
export type EnvelopeSource = 'mqtt' | 'opcua';

/** How `payload` is encoded inside the job (jobs are JSON). */
export type PayloadEncoding = 'utf8' | 'base64';

export interface RawEnvelope {
  /** Unique per accepted message; keys quarantine rows so a retried job quarantines once. */
  id: string;
  source: EnvelopeSource;
  /** The authenticated device (MQTT username) or the mapped device (OPC UA). */
  deviceId: string;
  /** MQTT topic the message was published on. */
  topic?: string;
  /** OPC UA NodeId the value came from. */
  nodeId?: string;
  /** Gateway clock, epoch milliseconds; the reading's time when the payload has none. */
  receivedAtMs: number;
  payloadEncoding: PayloadEncoding;
  payload: string;
  /**
   * Where the message stands among the Sparkplug messages of its MQTT connection, as the
   * gateway accepted them. Workers process jobs concurrently; they apply one edge node's
   * messages in this order (services/ingest/sparkplug-order.ts). Absent for other topics.
   */
  order?: ConnectionOrder;
}

export interface ConnectionOrder {
  /** Unique per MQTT connection. */
  connectionId: string;
  /** When the connection was accepted (gateway clock): a later connection supersedes an earlier one. */
  connectedAtMs: number;
  /** 0 for the connection's first Sparkplug message, then 1, 2, … */
  index: number;
  /**
   * On a connection's first message: the same device's previous connection on this
   * gateway and its last index, so that connection's messages are applied first.
   */
  previous?: { connectionId: string; connectedAtMs: number; lastIndex: number };
}

/**
 * Payload bytes as carried in a job: UTF-8 text stays readable in Redis and in the
 * quarantine table; anything else (protobuf, random bytes) travels as base64.
 */
export function encodePayload(bytes: Uint8Array): Pick<RawEnvelope, 'payload' | 'payloadEncoding'> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return { payloadEncoding: 'utf8', payload: buffer.toString('utf8') };
  return { payloadEncoding: 'base64', payload: buffer.toString('base64') };
}

export function decodePayload(envelope: Pick<RawEnvelope, 'payload' | 'payloadEncoding'>): Buffer {
  return Buffer.from(envelope.payload, envelope.payloadEncoding);
}
