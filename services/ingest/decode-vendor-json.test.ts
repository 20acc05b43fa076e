import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDeviceProfiles } from '../../contracts/device-profile.js';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { decodeEnvelope } from './decode-envelope.js';

const NOW = Date.parse('2026-11-21T04:00:00Z');
const profiles = parseDeviceProfiles({
  profiles: {
    'acme-aq-v2': {
      records: 'data',
      timestamp: { field: 'time', format: 'local', utcOffset: '+08:00' },
      fields: {
        PM25: { metric: 'pm2_5', unit: 'mg/m3' },
        'env.tempF': { metric: 'temperature', unit: '[degF]' },
        'env.rh': { metric: 'humidity' },
        rssi: 'ignore',
      },
    },
    'meter-x': {
      timestamp: { field: 'ts', format: 'epoch_s' },
      fields: { E: { metric: 'energy_import', unit: 'Wh' }, P: { metric: 'active_power', unit: 'W' } },
      unmapped: 'ignore',
    },
  },
}, BUILTIN_CATALOGUE, 'test');

function decode(profileName: string, payload: unknown) {
  const envelope: RawEnvelope = {
    id: 'e', source: 'mqtt', deviceId: 'v-1', topic: 'sensors/v-1/telemetry', receivedAtMs: NOW - 1000, payloadEncoding: 'utf8',
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
  return decodeEnvelope(envelope, { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000, profile: profiles.get(profileName) ?? { missing: profileName } });
}

describe('vendor JSON through a device profile', () => {
  it('maps fields, converts units and reads the local timestamp', () => {
    const outcome = decode('acme-aq-v2', {
      devId: 'ACME-0042',
      data: [
        { time: '2026-11-21 08:00:00', PM25: 0.035, env: { tempF: 50, rh: 61 }, rssi: -71 },
        { time: '2026-11-21 08:01:00', PM25: 0.0362, env: { tempF: 50.9 } },
      ],
    });
    expect(outcome.refusals).toEqual([]);
    // 08:00 at +08:00 is 00:00 UTC; 50 °F = 10 °C, 50.9 °F = 10.5 °C; 0.035 mg/m³ = 35 µg/m³.
    expect(outcome.readings.map((r) => [r.time.toISOString(), r.metric, r.value])).toEqual([
      ['2026-11-21T00:00:00.000Z', 'pm2_5', 35], ['2026-11-21T00:00:00.000Z', 'temperature', 10], ['2026-11-21T00:00:00.000Z', 'humidity', 61],
      ['2026-11-21T00:01:00.000Z', 'pm2_5', 36.2], ['2026-11-21T00:01:00.000Z', 'temperature', 10.5],
    ]);
  });

  it('quarantines fields the profile does not map, unless it says to ignore them', () => {
    const outcome = decode('acme-aq-v2', { data: [{ time: '2026-11-21 08:00:00', PM25: 0.01, noise: 55, env: { co2: 400 } }] });
    expect(outcome.readings.map((r) => r.metric)).toEqual(['pm2_5']);
    expect(outcome.refusals.map((r) => [r.reason, r.message])).toEqual([
      ['metric_unknown', 'vendor field "noise" is not mapped by profile acme-aq-v2'],
      ['metric_unknown', 'vendor field "env.co2" is not mapped by profile acme-aq-v2'],
    ]);
    const meter = decode('meter-x', { ts: 1763683200, E: 123456, P: 1500, serial: 'X1' });
    expect(meter.refusals).toEqual([]);
    expect(meter.readings.map((r) => [r.time.toISOString(), r.metric, r.value])).toEqual([
      ['2025-11-21T00:00:00.000Z', 'energy_import', 123.456], ['2025-11-21T00:00:00.000Z', 'active_power', 1.5],
    ]);
  });

  it.each([
    [{ data: [{ time: '2026-11-21T08:00:00+08:00', PM25: 1 }] }, 'timestamp_invalid', 'not a local date and time'],
    [{ data: [{ PM25: 1 }] }, 'timestamp_invalid', 'timestamp field "time" is missing'],
    [{ data: [{ time: '2026-02-30 08:00:00', PM25: 1 }] }, 'timestamp_invalid', 'not a local date'],
    [{ data: [{ time: '2026-11-21 08:00:00', PM25: '0.035' }] }, 'value_not_number', 'pm2_5: value "0.035"'],
    [{ data: [{ time: '2026-11-21 08:00:00', PM25: 3 }] }, 'value_out_of_range', 'pm2_5: 3000'],
    [{ data: [{ time: '2026-11-21 08:00:00', PM25: { v: 1 } }] }, 'value_not_number', 'pm2_5: value {"v":1}'],
  ])('refuses the value in %j as %s', (payload, reason, message) => {
    const [refusal] = decode('acme-aq-v2', payload).refusals;
    expect(refusal?.reason).toBe(reason);
    expect(refusal?.message).toContain(message);
  });

  it.each([
    [{ data: { PM25: 1 } }, 'payload_schema', '"data" is not an array'],
    [{ data: [1] }, 'payload_schema', 'expects a JSON object'],
    [{ data: [] }, 'payload_empty', 'no records'],
    ['{"data":[{"PM25":1,"PM25":2}]}', 'payload_duplicate_key', 'key "PM25" appears twice'],
    [{ data: [{ time: '2026-11-21 08:00:00', rssi: 1 }] }, 'payload_empty', 'no field of the payload is mapped'],
  ])('refuses the whole message %j as %s', (payload, reason, message) => {
    const outcome = decode('acme-aq-v2', payload);
    expect(outcome.readings).toEqual([]);
    expect(outcome.refusals).toMatchObject([{ item: -1, reason, message: expect.stringContaining(message) }]);
  });

  it('refuses the telemetry of a device whose profile the configuration no longer has', () => {
    expect(decode('gone-v1', { a: 1 }).refusals).toMatchObject([{ item: -1, reason: 'profile_unknown', message: expect.stringContaining('"gone-v1"') }]);
  });
});

describe('the profile example of docs/payloads.md', () => {
  it('is accepted, and turns the example payload into the readings the page says', async () => {
    const markdown = await readFile(path.resolve(import.meta.dirname, '../../docs/payloads.md'), 'utf8');
    const section = markdown.slice(markdown.indexOf('## Vendor JSON'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    const example = /turns `(\{.*?\})`/s.exec(section)?.[1];
    const documented = parseDeviceProfiles(parse(yaml!), BUILTIN_CATALOGUE, 'docs/payloads.md');
    const outcome = decodeEnvelope(
      { id: 'e', source: 'mqtt', deviceId: 'v', topic: 'sensors/v/telemetry', receivedAtMs: NOW, payloadEncoding: 'utf8', payload: example! },
      { catalogue: BUILTIN_CATALOGUE, nowMs: NOW, maxFutureSkewMs: 600_000, profile: documented.get('acme-aq-v2')! },
    );
    expect(outcome.refusals).toEqual([]);
    expect(outcome.readings.map((r) => [r.time.toISOString(), r.metric, r.value])).toEqual([
      ['2026-11-21T00:00:00.000Z', 'pm2_5', 35], ['2026-11-21T00:00:00.000Z', 'temperature', 10], ['2026-11-21T00:00:00.000Z', 'humidity', 61],
    ]);
  });
});
