import { decodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import {
  formatStatus, qualityOfStatus, storedStatus, TIMESTAMP_SOURCES, type OpcuaValuePayload, type TimestampSource,
} from '../../contracts/opcua-payload.js';
import { refuseMessage, type DecodeResult } from './decode-result.js';
import { checkInstant } from './parse-timestamp.js';
import { parseStrictJson } from './strict-json.js';

/**
 * Decodes an OPC UA envelope (contracts/opcua-payload.ts): one DataValue becomes one
 * sample. The time is the timestamp the mapping chose, never rewritten: a source time
 * too far ahead is refused like any device time. When the chosen timestamp is missing
 * (servers may omit SourceTimestamp), the next one in source → server → gateway order
 * is taken; the envelope keeps what the server actually sent.
 *
 * Quality comes from the StatusCode's severity and the code itself is kept as the
 * reading's source quality. A Bad status with a value is stored with quality bad; a
 * Bad status without one (an empty Variant) cannot be a row of the readings table,
 * whose value is NOT NULL, and is quarantined with the status in the message rather
 * than stored as an invented number.
 */

export interface OpcuaDecodeOptions {
  nowMs: number;
  maxFutureSkewMs: number;
}

const INT64_TYPES = new Set(['Int64', 'UInt64']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalText(document: Record<string, unknown>, key: string): string | null | undefined | false {
  const raw = document[key];
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  return typeof raw === 'string' && raw.length > 0 && raw.length <= 64 ? raw : false;
}

/** Checks the shape the gateway writes; anything else was not written by it. */
function readPayload(document: unknown): OpcuaValuePayload | string {
  if (!isPlainObject(document)) return 'an OPC UA payload is a JSON object';
  const { metric, value, dataType, status, timestampSource } = document;
  if (typeof metric !== 'string' || metric.length === 0 || metric.length > 64) return '"metric" must be a text of 1–64 characters';
  const unit = optionalText(document, 'unit');
  if (unit === false || unit === null) return '"unit" must be a unit text of 1–64 characters when present';
  if (typeof dataType !== 'string' || dataType.length === 0 || dataType.length > 32) return '"dataType" must be an OPC UA DataType name';
  if (!(value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')) {
    return '"value" must be a number, a boolean, a decimal string or null';
  }
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 0xffffffff) {
    return '"status" must be an OPC UA StatusCode, an unsigned 32-bit integer';
  }
  const sourceTime = optionalText(document, 'sourceTime');
  const serverTime = optionalText(document, 'serverTime');
  if (sourceTime === false || serverTime === false) return '"sourceTime" and "serverTime" must be ISO 8601 texts or null';
  if (typeof timestampSource !== 'string' || !(TIMESTAMP_SOURCES as readonly string[]).includes(timestampSource)) {
    return `"timestampSource" must be one of ${TIMESTAMP_SOURCES.join(', ')}`;
  }
  return {
    metric, value, dataType, status, sourceTime: sourceTime ?? null, serverTime: serverTime ?? null,
    timestampSource: timestampSource as TimestampSource, ...(unit === undefined ? {} : { unit }),
  };
}

/** The chosen timestamp, or the next one present: source → server → gateway. */
function pickTime(payload: OpcuaValuePayload, receivedAtMs: number): { text: string | null; ms: number } {
  const order: (string | null)[] = payload.timestampSource === 'source'
    ? [payload.sourceTime, payload.serverTime]
    : payload.timestampSource === 'server' ? [payload.serverTime] : [];
  const text = order.find((candidate) => candidate !== null) ?? null;
  return { text, ms: text === null ? receivedAtMs : Date.parse(text) };
}

function valueOf(payload: OpcuaValuePayload): unknown {
  if (typeof payload.value === 'string' && INT64_TYPES.has(payload.dataType) && /^-?\d{1,20}$/.test(payload.value)) {
    return Number(payload.value);
  }
  return payload.value;
}

export function decodeOpcua(envelope: RawEnvelope, options: OpcuaDecodeOptions): DecodeResult {
  if (envelope.payloadEncoding !== 'utf8') return refuseMessage('payload_not_utf8', 'an OPC UA payload is JSON text');
  const parsed = parseStrictJson(decodePayload(envelope).toString('utf8'));
  if (!parsed.ok) return refuseMessage(parsed.reason, parsed.message);
  const payload = readPayload(parsed.value);
  if (typeof payload === 'string') return refuseMessage('payload_schema', payload);

  const time = pickTime(payload, envelope.receivedAtMs);
  if (Number.isNaN(time.ms)) return refuseMessage('timestamp_invalid', `timestamp "${time.text ?? ''}" is not ISO 8601`);
  const checked = checkInstant(time.ms, options.nowMs, options.maxFutureSkewMs);
  if (!checked.ok) return refuseMessage('timestamp_invalid', `${payload.timestampSource} ${checked.message}`);

  const quality = qualityOfStatus(payload.status);
  const node = envelope.nodeId ?? 'the node';
  if (payload.value === null) {
    const why = quality === 'good' ? 'an empty value' : `status ${formatStatus(payload.status)} (${quality}) and no value`;
    return refuseMessage('value_not_number', `${payload.metric} from ${node}: the server sent ${why}; nothing can be stored for it`);
  }
  return {
    ok: true,
    refusals: [],
    samples: [{
      item: 0,
      metric: payload.metric,
      value: valueOf(payload),
      ...(payload.unit === undefined ? {} : { unit: payload.unit }),
      time: checked.time,
      quality,
      sourceQuality: storedStatus(payload.status),
      label: node,
    }],
  };
}
