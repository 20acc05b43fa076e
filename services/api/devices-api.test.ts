import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/database.js';
import { findDeviceCredentials, resolveDeviceNums } from '../../storage/devices-store.js';
import { type MetricDictionary } from '../../storage/metric-dictionary.js';
import { insertReadings } from '../../storage/readings-store.js';
import { api, registerDevice } from '../../test/support/api-client.js';
import { verifyDeviceSecret } from '../auth/device-secrets.js';
import { type Api } from './create-api.js';
import { startTestApi } from '../../test/support/test-api.js';

const ADMIN = `admin-${randomUUID()}`;

interface DeviceJson { id: string; name: string; domain: string; district: string | null; location: { latitude: number; longitude: number } | null; disabled: boolean; lastSeen: string | null }
interface Snapshot { devices: { id: string; district: string | null; metrics: Record<string, { value: number; time: string; unit: string }> }[]; nextAfter: string | null }

describe('HTTP API: device metadata, lifecycle and the city snapshot', () => {
  let db: Database;
  let server: Api;
  let base: string;
  let operator: string;
  let dictionary: MetricDictionary;

  async function write(id: string, metric: string, time: string, value: number): Promise<void> {
    const num = (await resolveDeviceNums(db, [id])).get(id)!;
    await insertReadings(db, [{ time: new Date(time), deviceNum: num, metricNum: dictionary.numOf(metric)!, value, qualityCode: 0, sourceQuality: undefined }]);
  }

  beforeAll(async () => {
    ({ db, dictionary, server, base } = await startTestApi({ adminKey: ADMIN }));
    operator = (await api<{ key: string }>(base, 'POST', '/api/v1/api-keys', { key: ADMIN, body: { role: 'operator', name: 'ops' } })).body.key;
    // Three air stations in Tianjin's Heping and Hexi districts and one water meter.
    const places = [
      ['air-1', 'environment', 'Heping', 39.118, 117.195],
      ['air-2', 'environment', 'Hexi', 39.09, 117.22],
      ['air-3', 'environment', 'Heping', 40.5, 118.5],
      ['water-1', 'water', 'Heping', 39.12, 117.2],
    ] as const;
    for (const [id, domain, district, latitude, longitude] of places) {
      await registerDevice(base, ADMIN, { id, domain });
      const patched = await api(base, 'PATCH', `/api/v1/devices/${id}`, { key: operator, body: { district, location: { latitude, longitude } } });
      expect(patched.status).toBe(200);
    }
    await write('air-1', 'pm2_5', '2026-11-21T07:00:00Z', 30);
    await write('air-1', 'pm2_5', '2026-11-21T08:00:00Z', 35);
    await write('air-1', 'pm10', '2026-11-21T08:00:00Z', 60);
    await write('air-2', 'pm2_5', '2026-11-21T08:05:00Z', 12);
    await write('air-3', 'pm2_5', '2026-11-21T08:10:00Z', 80);
    await write('water-1', 'pressure', '2026-11-21T08:00:00Z', 300);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('updates metadata, clears it with null, and reports when the device was last seen', async () => {
    const patched = await api<DeviceJson>(base, 'PATCH', '/api/v1/devices/air-1', { key: operator, body: { name: 'Heping Road station' } });
    expect(patched.body).toMatchObject({ id: 'air-1', name: 'Heping Road station', district: 'Heping', location: { latitude: 39.118, longitude: 117.195 }, lastSeen: '2026-11-21T08:00:00.000Z' });
    const cleared = await api<DeviceJson>(base, 'PATCH', '/api/v1/devices/water-1', { key: operator, body: { location: null } });
    expect(cleared.body.location).toBeNull();
    expect((await api<DeviceJson>(base, 'GET', '/api/v1/devices/water-1', { key: operator })).body.location).toBeNull();
    await api(base, 'PATCH', '/api/v1/devices/water-1', { key: operator, body: { location: { latitude: 39.12, longitude: 117.2 } } });
    const listed = await api<{ devices: DeviceJson[] }>(base, 'GET', '/api/v1/devices?district=Heping&domain=environment', { key: operator });
    expect(listed.body.devices.map((d) => [d.id, d.lastSeen])).toEqual([['air-1', '2026-11-21T08:00:00.000Z'], ['air-3', '2026-11-21T08:10:00.000Z']]);
  });

  it.each([
    [{}, '(root)'],
    [{ colour: 'red' }, 'colour'],
    [{ location: { latitude: 91, longitude: 0 } }, 'location'],
    [{ location: { latitude: 39 } }, 'location'],
    [{ district: 'a\u0000b' }, 'district'],
    [{ domain: 'space' }, 'domain'],
    [{ disabled: 'maybe' }, 'disabled'],
    [{ profile: 'no-such-profile' }, 'profile'],
  ])('PATCH with %j is a 400 naming %s', async (body, name) => {
    const answer = await api<{ errors: { name: string }[] }>(base, 'PATCH', '/api/v1/devices/air-2', { key: operator, body });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error) => error.name.split('.')[0])).toContain(name);
  });

  it('answers the city snapshot filtered by domain, metric, district and bounding box', async () => {
    const snapshot = (query: string) => api<Snapshot>(base, 'GET', `/api/v1/latest${query}`, { key: operator }).then((answer) => answer.body);
    const all = await snapshot('');
    expect(all.devices.map((d) => d.id)).toEqual(['air-1', 'air-2', 'air-3', 'water-1']);
    expect(all.devices[0]?.metrics).toEqual({
      pm10: { time: '2026-11-21T08:00:00.000Z', value: 60, unit: 'ug/m3', quality: 'good' },
      pm2_5: { time: '2026-11-21T08:00:00.000Z', value: 35, unit: 'ug/m3', quality: 'good' },
    });
    expect((await snapshot('?domain=water')).devices.map((d) => d.id)).toEqual(['water-1']);
    expect((await snapshot('?district=Heping&metric=pm2_5')).devices.map((d) => [d.id, Object.keys(d.metrics)])).toEqual([['air-1', ['pm2_5']], ['air-3', ['pm2_5']]]);
    // Central Tianjin: air-3 (40.5 N, 118.5 E) is outside.
    expect((await snapshot('?bbox=117.1,39.0,117.3,39.2&domain=environment')).devices.map((d) => d.id)).toEqual(['air-1', 'air-2']);
    const first = await snapshot('?limit=2');
    expect(first.devices.map((d) => d.id)).toEqual(['air-1', 'air-2']);
    expect((await snapshot(`?limit=2&after=${first.nextAfter}`)).devices.map((d) => d.id)).toEqual(['air-3', 'water-1']);
  });

  it('leaves a disabled device out of the snapshot and refuses its MQTT login until enabled', async () => {
    await api(base, 'PATCH', '/api/v1/devices/air-2', { key: operator, body: { disabled: true } });
    expect((await findDeviceCredentials(db, 'air-2'))?.disabled).toBe(true);
    const snapshot = await api<Snapshot>(base, 'GET', '/api/v1/latest?domain=environment', { key: operator });
    expect(snapshot.body.devices.map((d) => d.id)).toEqual(['air-1', 'air-3']);
    const enabled = await api<DeviceJson>(base, 'PATCH', '/api/v1/devices/air-2', { key: operator, body: { disabled: false } });
    expect(enabled.body.disabled).toBe(false);
  });

  it('rotates the MQTT secret: the new one verifies, the old one no longer does', async () => {
    const device = await registerDevice(base, ADMIN, { id: `rot-${randomUUID().slice(0, 8)}`, domain: 'grid' });
    const rotated = await api<{ username: string; password: string }>(base, 'POST', `/api/v1/devices/${device.id}/secret`, { key: ADMIN });
    expect(rotated.status).toBe(200);
    expect(rotated.body.username).toBe(device.id);
    const stored = await findDeviceCredentials(db, device.id);
    expect(await verifyDeviceSecret(rotated.body.password, stored!.secretHash)).toBe(true);
    expect(await verifyDeviceSecret(device.password, stored!.secretHash)).toBe(false);
    expect((await api(base, 'POST', '/api/v1/devices/nope/secret', { key: ADMIN })).status).toBe(404);
  });

  it('deletes a device: it is gone from the API, and the id can be registered again', async () => {
    const id = `gone-${randomUUID().slice(0, 8)}`;
    await registerDevice(base, ADMIN, { id, domain: 'grid' });
    expect((await api(base, 'DELETE', `/api/v1/devices/${id}`, { key: ADMIN })).status).toBe(204);
    expect((await api(base, 'GET', `/api/v1/devices/${id}`, { key: ADMIN })).status).toBe(404);
    expect((await api(base, 'DELETE', `/api/v1/devices/${id}`, { key: ADMIN })).status).toBe(404);
    expect((await api(base, 'PATCH', `/api/v1/devices/${id}`, { key: ADMIN, body: { name: 'x' } })).status).toBe(404);
    await registerDevice(base, ADMIN, { id, domain: 'grid' });
  });
});
