import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

interface Reading { time: string; metric: string; value: number; unit: string; quality: string }
interface QuarantineEntry { device: string; reason: string; message: string; topic: string }

/*
 * Every payload format through the real broker, queue and worker into PGlite, checked
 * through the API: native JSON with units, SenML, a vendor profile, and a metric added
 * by METRIC_CATALOGUE_FILE.
 */
describe('payload formats, end to end', () => {
  let env: TestStack;
  let configDir: string;

  beforeAll(async () => {
    configDir = await mkdtemp(path.join(tmpdir(), 'urbansense-formats-'));
    const catalogueFile = path.join(configDir, 'metrics.yaml');
    const profilesFile = path.join(configDir, 'profiles.json');
    await writeFile(catalogueFile, [
      'metrics:',
      '  - { key: noise_lmax, name: Maximum A-weighted sound level, domain: environment, unit: dB, symbol: dB(A), kind: gauge, min: 0, max: 160, aliases: [LMx] }',
      'extend:',
      '  pm2_5: { aliases: [fine_dust] }',
    ].join('\n'));
    await writeFile(profilesFile, JSON.stringify({
      profiles: {
        'acme-meter-v1': {
          timestamp: { field: 'ts', format: 'epoch_ms' },
          fields: { 'reg.Ep': { metric: 'energy_import', unit: 'Wh' }, 'reg.P': { metric: 'active_power', unit: 'W' }, 'diag.rssi': 'ignore' },
        },
      },
    }));
    env = await startTestStack({ env: { METRIC_CATALOGUE_FILE: catalogueFile, DEVICE_PROFILES_FILE: profilesFile } });
  });
  afterAll(async () => {
    await env?.remove();
    if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
  });

  async function publish(device: RegisteredDevice, topic: string, payload: string): Promise<void> {
    const client = await mqtt.connectAsync(env.mqttUrl, { username: device.username, password: device.password, reconnectPeriod: 0 });
    await client.publishAsync(topic, payload, { qos: 1 });
    await client.endAsync();
  }

  async function readingsOf(deviceId: string, count: number, range = '?from=2026-11-20T00:00:00Z&to=2026-11-22T00:00:00Z'): Promise<Reading[]> {
    return eventually(async () => {
      const answer = await api<{ readings: Reading[] }>(env.apiUrl, 'GET', `/api/v1/devices/${deviceId}/readings${range}`, { key: env.adminKey });
      return answer.body.readings.length >= count ? answer.body.readings : undefined;
    }, 15_000, `${count} readings of ${deviceId}`);
  }

  async function quarantineOf(deviceId: string, count: number): Promise<QuarantineEntry[]> {
    return eventually(async () => {
      const answer = await api<{ entries: QuarantineEntry[] }>(env.apiUrl, 'GET', `/api/v1/quarantine?device=${deviceId}`, { key: env.adminKey });
      return answer.body.entries.length >= count ? answer.body.entries : undefined;
    }, 15_000, `${count} quarantine entries of ${deviceId}`);
  }

  const byMetric = (rows: Reading[]) => rows.map((row) => [row.time, row.metric, row.value, row.unit]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));

  it('native JSON: aliases and units are normalised to the catalogue; a unit it does not accept is quarantined', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `nat-${randomUUID().slice(0, 8)}`, domain: 'environment' });
    await publish(device, device.topic, JSON.stringify({
      ts: '2026-11-21T08:00:00+08:00',
      metrics: {
        'PM2.5': { value: 0.035, unit: 'mg/m3' },
        a34002: { value: 0.061, unit: 'mg/m³' },
        temperature: { value: 50, unit: '°F' },
        fine_dust: 36,
        LMx: 71.5,
        co: { value: 1, unit: 'mg/L' },
      },
    }));
    const rows = await readingsOf(device.id, 4);
    // 0.035 mg/m³ = 35 µg/m³; 0.061 mg/m³ = 61 µg/m³; 50 °F = 10 °C; LMx is the extension metric noise_lmax.
    expect(byMetric(rows)).toEqual([
      ['2026-11-21T00:00:00.000Z', 'noise_lmax', 71.5, 'dB'], ['2026-11-21T00:00:00.000Z', 'pm10', 61, 'ug/m3'],
      ['2026-11-21T00:00:00.000Z', 'pm2_5', 35, 'ug/m3'], ['2026-11-21T00:00:00.000Z', 'temperature', 10, 'Cel'],
    ]);
    const entries = await quarantineOf(device.id, 2);
    expect(entries.map((entry) => [entry.reason, entry.message]).sort()).toEqual([
      ['reading_duplicate', 'pm2_5 at 2026-11-21T00:00:00.000Z appears more than once in the message (items 0 and 3); the first is kept'],
      ['unit_mismatch', 'co: unit "mg/L" is not accepted; send mg/m3 (or ug/m3, [ppm], [ppb])'],
    ].sort());
  });

  it('SenML: a pack on sensors/{id}/senml resolves base name, time and unit', async () => {
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `senml-${randomUUID().slice(0, 8)}`, domain: 'water' });
    await publish(device, `sensors/${device.id}/senml`, JSON.stringify([
      { bn: `urn:dev:mac:0024befffe804ff1:`, bt: 1763683200, bu: 'kPa', n: 'pressure', v: 312.5 },
      { n: 'pressure', t: 60, v: 313 },
      { n: 'flow', u: 'L/s', v: 25, t: 60 },
      { n: 'volume_total', u: 'm3', s: 1024.5, t: 60 },
      { n: 'ph', u: '/', v: 7.2 },
    ]));
    const rows = await readingsOf(device.id, 4, '?from=2025-11-20T00:00:00Z&to=2025-11-22T00:00:00Z');
    // bt 1763683200 s = 2025-11-21T00:00:00Z; 25 L/s = 90 m³/h.
    expect(byMetric(rows)).toEqual([
      ['2025-11-21T00:01:00.000Z', 'flow', 90, 'm3/h'], ['2025-11-21T00:00:00.000Z', 'pressure', 312.5, 'kPa'],
      ['2025-11-21T00:01:00.000Z', 'pressure', 313, 'kPa'], ['2025-11-21T00:01:00.000Z', 'volume_total', 1024.5, 'm3'],
    ]);
    const [entry] = await quarantineOf(device.id, 1);
    expect(entry).toMatchObject({ reason: 'unit_mismatch', topic: `sensors/${device.id}/senml` });
  });

  it('vendor JSON: a device registered with a profile is decoded with it', async () => {
    const refused = await api(env.apiUrl, 'POST', '/api/v1/devices', { key: env.adminKey, body: { id: 'meter-x', domain: 'grid', name: 'x', profile: 'nope' } });
    expect(refused).toMatchObject({ status: 400, body: { errors: [{ in: 'body', name: 'profile' }] } });
    const device = await registerDevice(env.apiUrl, env.adminKey, { id: `meter-${randomUUID().slice(0, 8)}`, domain: 'grid', profile: 'acme-meter-v1' });
    const described = await api<{ profile: string }>(env.apiUrl, 'GET', `/api/v1/devices/${device.id}`, { key: env.adminKey });
    expect(described.body.profile).toBe('acme-meter-v1');
    await publish(device, device.topic, JSON.stringify({ ts: Date.parse('2026-11-21T01:00:00Z'), reg: { Ep: 5_250_125, P: 4200 }, diag: { rssi: -67, fw: '2.1' } }));
    const rows = await readingsOf(device.id, 2);
    expect(byMetric(rows)).toEqual([
      ['2026-11-21T01:00:00.000Z', 'active_power', 4.2, 'kW'], ['2026-11-21T01:00:00.000Z', 'energy_import', 5250.125, 'kW.h'],
    ]);
    const [entry] = await quarantineOf(device.id, 1);
    expect(entry).toMatchObject({ reason: 'metric_unknown', message: 'vendor field "diag.fw" is not mapped by profile acme-meter-v1' });
  });

  it('serves the extended catalogue with aliases and units', async () => {
    const answer = await api<{ metrics: { key: string; aliases: string[]; units: { unit: string; factor: string }[] }[] }>(env.apiUrl, 'GET', '/api/v1/metrics', { key: env.adminKey });
    expect(answer.body.metrics.length).toBeGreaterThanOrEqual(41);
    expect(answer.body.metrics.find((metric) => metric.key === 'noise_lmax')).toMatchObject({ aliases: ['LMx'], units: [] });
    expect(answer.body.metrics.find((metric) => metric.key === 'pm2_5')).toMatchObject({
      aliases: ['pm25', 'pm2.5', 'a34004', 'fine_dust'], units: [{ unit: 'mg/m3', factor: '1000' }, { unit: 'ng/m3', factor: '1/1000' }],
    });
  });
});
