import { describe, expect, it } from 'vitest';
import { rawPayload, tahuPayload } from '../../../test/support/sparkplug-encoder.js';
import { decodeSparkplugPayload, metricValue, shortestFloat32 } from './sparkplug-payload.js';

function decoded(bytes: Uint8Array) {
  const result = decodeSparkplugPayload(bytes);
  if (!result.ok) throw new Error(result.message);
  return result.payload;
}

const valueOf = (bytes: Uint8Array, datatype?: number) => {
  const [metric] = decoded(bytes).metrics;
  return metricValue(metric!.proto, datatype ?? metric!.datatype ?? 0);
};

describe('Sparkplug B payloads encoded by Eclipse Tahu', () => {
  it.each([
    ['Int8', -4, -4], ['Int8', 127, 127], ['Int8', -128, -128], ['Int16', -87, -87], ['Int16', 32767, 32767],
    ['Int32', -2147483648, -2147483648], ['Int64', -5, -5], ['UInt8', 255, 255], ['UInt16', 65535, 65535],
    ['UInt32', 4000000000, 4000000000], ['UInt64', 9007199254740991, 9007199254740991],
    ['Float', 12.1, 12.1], ['Float', -0.3, -0.3], ['Double', 0.1 + 0.2, 0.30000000000000004], ['Boolean', true, true],
  ] as const)('%s %s is read as %s', (type, value, expected) => {
    expect(valueOf(tahuPayload({ metrics: [{ name: 'm', type, value }] }))).toEqual({ ok: true, value: expected });
  });

  it('reads signed integers in their own width too (Int8 −4 as 252, Int16 −87 as 65449)', () => {
    // Sparkplug 3.0 §6.4.16 names only the protobuf type (uint32); devices send both forms.
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 1, intValue: 252 }] }))).toEqual({ ok: true, value: -4 });
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 2, intValue: 65449 }] }))).toEqual({ ok: true, value: -87 });
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 2, intValue: 4294967209 }] }))).toEqual({ ok: true, value: -87 });
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 7, intValue: 4000000000 }] }))).toEqual({ ok: true, value: 4000000000 });
  });

  it('refuses integers that fit neither form, and 64-bit values a float64 cannot hold exactly', () => {
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 1, intValue: 300 }] }))).toMatchObject({ ok: false });
    expect(valueOf(rawPayload({ metrics: [{ name: 'm', datatype: 5, intValue: 256 }] }))).toMatchObject({ ok: false });
    expect(valueOf(tahuPayload({ metrics: [{ name: 'm', type: 'UInt64', value: 2 ** 60 }] }))).toMatchObject({ ok: false });
    expect(valueOf(tahuPayload({ metrics: [{ name: 'm', type: 'String', value: '12' }] }))).toEqual({ ok: false, message: 'a String is not a number' });
  });

  it('reads an alias-only metric with the datatype its BIRTH gave', () => {
    const bytes = rawPayload({ seq: 3, metrics: [{ alias: 7, floatValue: 21.5 }] });
    const payload = decoded(bytes);
    expect(payload.seq).toBe(3n);
    expect(payload.metrics[0]).toMatchObject({ alias: '7', name: undefined, datatype: undefined });
    expect(valueOf(bytes, 9)).toEqual({ ok: true, value: 21.5 });
  });

  it('reads the Quality and engUnit properties, timestamps, is_null and is_transient', () => {
    const [metric] = decoded(tahuPayload({
      timestamp: 1763683200000,
      metrics: [{
        name: 'Inputs/pm2_5', alias: 12, type: 'Float', value: 0.035, timestamp: 1763683199000, isTransient: true,
        properties: { Quality: { type: 'Int32', value: 500 }, engUnit: { type: 'String', value: 'mg/m3' } },
      }],
    })).metrics;
    expect(metric).toMatchObject({ name: 'Inputs/pm2_5', alias: '12', timestampMs: 1763683199000, quality: 500, unit: 'mg/m3', isTransient: true, isNull: false });
    expect(decoded(tahuPayload({ metrics: [{ name: 'n', type: 'Double', value: null }] })).metrics[0]?.isNull).toBe(true);
  });

  it('gives the shortest decimal of a float32', () => {
    expect([12.1, 0.035, 1e-7, 3.4e38].map((value) => shortestFloat32(Math.fround(value)))).toEqual([12.1, 0.035, 1e-7, 3.4e38]);
    expect(Math.fround(12.1)).not.toBe(12.1);
  });

  it('refuses bytes that are not a protobuf payload', () => {
    expect(decodeSparkplugPayload(Buffer.from('{"metrics":{}}'))).toMatchObject({ ok: false });
  });
});
