import { describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { OpcuaValuePayload } from '../../contracts/opcua-payload.js';
import { decodeEnvelope } from './decode-envelope.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const RECEIVED = NOW - 200;
const SOURCE = '2026-11-21T11:59:58.500Z';
const SERVER = '2026-11-21T11:59:59.750Z';

function payload(overrides: Partial<OpcuaValuePayload> = {}): OpcuaValuePayload {
  return {
    metric: 'flow', unit: 'm3/h', value: 412.5, dataType: 'Double', status: 0,
    sourceTime: SOURCE, serverTime: SERVER, timestampSource: 'source', ...overrides,
  };
}

function envelope(body: unknown): RawEnvelope {
  return {
    id: 'e1', source: 'opcua', deviceId: 'plant-pump-1', nodeId: 'ns=1;s=WaterPlant.Pump1.Flow',
    receivedAtMs: RECEIVED, payloadEncoding: 'utf8', payload: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

const decode = (body: unknown) =>
  decodeEnvelope(envelope(body), { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000 });

describe('decodeEnvelope (OPC UA)', () => {
  it('stores the value at its source timestamp, with the status code kept', () => {
    expect(decode(payload())).toEqual({
      readings: [{ time: new Date(SOURCE), deviceId: 'plant-pump-1', metric: 'flow', value: 412.5, quality: 'good', sourceQuality: 0 }],
      refusals: [],
    });
  });

  it.each([
    ['source', SOURCE],
    ['server', SERVER],
    ['gateway', new Date(RECEIVED).toISOString()],
  ] as const)('takes the %s timestamp when the mapping says so', (timestampSource, expected) => {
    expect(decode(payload({ timestampSource })).readings[0]?.time.toISOString()).toBe(expected);
  });

  it('falls back to the server, then the gateway time, only when the server sent no source timestamp', () => {
    expect(decode(payload({ sourceTime: null })).readings[0]?.time.toISOString()).toBe(SERVER);
    expect(decode(payload({ sourceTime: null, serverTime: null })).readings[0]?.time.getTime()).toBe(RECEIVED);
  });

  it.each([
    { name: 'Good', status: 0x00000000, quality: 'good', stored: 0 },
    { name: 'UncertainInitialValue', status: 0x40920000, quality: 'uncertain', stored: 0x40920000 },
    { name: 'BadNoCommunication', status: 0x80320000, quality: 'bad', stored: -2144206848 },
    { name: 'severity 11 (reserved)', status: 0xc0000000, quality: 'bad', stored: -1073741824 },
  ] as const)('maps $name to $quality and stores the code as a signed 32-bit number', ({ status, quality, stored }) => {
    const [reading] = decode(payload({ status })).readings;
    expect(reading?.quality).toBe(quality);
    expect(reading?.sourceQuality).toBe(stored);
    expect((reading?.sourceQuality ?? 0) >>> 0).toBe(status);
  });

  it('converts the source unit into the catalogue unit', () => {
    expect(decode(payload({ metric: 'pressure', unit: 'bar', value: 4.2 })).readings[0]).toMatchObject({ metric: 'pressure', value: 420 });
    expect(decode(payload({ metric: 'voltage', unit: 'kV', value: 10.4 })).readings[0]).toMatchObject({ value: 10400 });
  });

  it('stores booleans of state metrics as 0 and 1, and Int64 decimal strings as numbers', () => {
    expect(decode(payload({ metric: 'breaker_closed', unit: undefined, value: true, dataType: 'Boolean' })).readings[0]?.value).toBe(1);
    expect(decode(payload({ metric: 'volume_total', unit: 'm3', value: '123456789012', dataType: 'Int64' })).readings[0]?.value).toBe(123456789012);
  });

  it('quarantines a Bad status without a value, naming the status, instead of inventing a number', () => {
    const outcome = decode(payload({ value: null, dataType: 'Null', status: 0x80050000 }));
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals).toEqual([{
      item: -1, reason: 'value_not_number',
      message: 'flow from ns=1;s=WaterPlant.Pump1.Flow: the server sent status 0x80050000 (bad) and no value; nothing can be stored for it',
    }]);
  });

  it('keeps a Bad value the server did send, with quality bad', () => {
    expect(decode(payload({ status: 0x808d0000, value: 3.5 })).readings[0]).toMatchObject({ value: 3.5, quality: 'bad' });
  });

  it.each([
    ['not JSON', 'payload_not_json'],
    [[1, 2], 'payload_schema'],
    [{ ...payload(), status: -1 }, 'payload_schema'],
    [{ ...payload(), timestampSource: 'device' }, 'payload_schema'],
    [{ ...payload(), value: { nested: 1 } }, 'payload_schema'],
    [payload({ sourceTime: 'yesterday' }), 'timestamp_invalid'],
    [payload({ sourceTime: '2026-11-21T13:00:00Z' }), 'timestamp_invalid'],
    [payload({ metric: 'flux' }), 'metric_unknown'],
    [payload({ unit: 'gal/min' }), 'unit_mismatch'],
    [payload({ value: 'high', dataType: 'String' }), 'value_not_number'],
    [payload({ value: 1e9 }), 'value_out_of_range'],
  ])('refuses %j as %s', (body, reason) => {
    const outcome = decode(body);
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals.map((refusal) => refusal.reason)).toEqual([reason]);
  });
});
