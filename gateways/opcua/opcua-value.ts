import { randomUUID } from 'node:crypto';
import { DataType, VariantArrayType, type DataValue } from 'node-opcua';
import type { RawEnvelope } from '../../contracts/envelope.js';
import type { OpcuaValuePayload } from '../../contracts/opcua-payload.js';
import type { OpcuaNodeMapping } from './opcua-config.js';

/**
 * One DataValue as an envelope payload (contracts/opcua-payload.ts): the value with its
 * DataType, the status code and both timestamps exactly as the server sent them. The
 * gateway picks nothing and rewrites nothing; the worker decides.
 */

const NUMERIC = new Set<DataType>([
  DataType.SByte, DataType.Byte, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32,
  DataType.Float, DataType.Double,
]);

/** node-opcua carries 64-bit integers as [high, low] 32-bit halves; a decimal text keeps them exact. */
function int64Text(raw: unknown, signed: boolean): string | null {
  let big: bigint | undefined;
  if (Array.isArray(raw) && raw.length === 2) big = (BigInt((raw[0] as number) >>> 0) << 32n) | BigInt((raw[1] as number) >>> 0);
  else if (typeof raw === 'bigint') big = raw;
  else if (typeof raw === 'number' && Number.isInteger(raw)) big = BigInt(raw);
  if (big === undefined) return null;
  return (signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big)).toString();
}

function valueOf(dataValue: DataValue): Pick<OpcuaValuePayload, 'value' | 'dataType'> {
  const variant = dataValue.value;
  const name = DataType[variant.dataType] ?? `DataType ${variant.dataType}`;
  if (variant.arrayType !== VariantArrayType.Scalar) {
    // Arrays are refused when the item is created; a server that sends one anyway gets it quarantined.
    return { dataType: `${name}[]`, value: null };
  }
  if (variant.dataType === DataType.Null) return { dataType: name, value: null };
  if (variant.dataType === DataType.Boolean) return { dataType: name, value: Boolean(variant.value) };
  if (NUMERIC.has(variant.dataType)) return { dataType: name, value: typeof variant.value === 'number' ? variant.value : null };
  if (variant.dataType === DataType.Int64 || variant.dataType === DataType.UInt64) {
    return { dataType: name, value: int64Text(variant.value, variant.dataType === DataType.Int64) };
  }
  // Anything else (a String, a LocalizedText) is kept readable for the quarantine.
  return { dataType: name, value: String(variant.value).slice(0, 256) };
}

function isoOrNull(date: Date | null | undefined): string | null {
  // node-opcua reports an absent timestamp as null or as the OPC UA minimum date (1601).
  if (date === null || date === undefined || Number.isNaN(date.getTime()) || date.getTime() <= Date.UTC(1601, 0, 2)) return null;
  return date.toISOString();
}

export function opcuaPayload(node: OpcuaNodeMapping, dataValue: DataValue): OpcuaValuePayload {
  return {
    metric: node.metric,
    ...(node.unit === undefined ? {} : { unit: node.unit }),
    ...valueOf(dataValue),
    status: dataValue.statusCode.value >>> 0,
    sourceTime: isoOrNull(dataValue.sourceTimestamp),
    serverTime: isoOrNull(dataValue.serverTimestamp),
    timestampSource: node.timestampSource,
  };
}

/** The envelope for one value; `nodeId` is the resolved NodeId the value came from. */
export function opcuaEnvelope(node: OpcuaNodeMapping, nodeId: string, dataValue: DataValue, receivedAtMs: number): RawEnvelope {
  return {
    id: randomUUID(),
    source: 'opcua',
    deviceId: node.device,
    nodeId,
    receivedAtMs,
    payloadEncoding: 'utf8',
    payload: JSON.stringify(opcuaPayload(node, dataValue)),
  };
}
