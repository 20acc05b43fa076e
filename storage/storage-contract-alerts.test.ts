import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CanonicalReading } from '../contracts/reading.js';
import type { AlertRule } from '../services/alerts/alert-rule.js';
import { evaluateAlertRules } from '../services/alerts/evaluate-batch.js';
import { checkOffline, OFFLINE_RULE_ID, STALE_CLOCK_RULE_ID } from '../services/alerts/offline-monitor.js';
import { deleteRule, findRule, insertRule, listRules, replaceRule, seedRules } from './alert-rules-store.js';
import { acknowledgeAlert, clearAlertManually, findAlert, listAlerts, openAlert } from './alerts-store.js';
import type { Database } from './database.js';
import { touchDevices } from './device-health-store.js';
import { insertDevice } from './devices-store.js';
import { setDeviceStatus } from './ingest-devices-store.js';
import { noteTimescaleServerSkipped, STORAGE_MODES, useMigratedDatabase } from '../test/support/storage-modes.js';

/*
 * The storage contract, alerts (issue 7): rules, per-(rule, series) state and alerts behave
 * the same on every database mode; on a server, two processes never open the same alert twice.
 */

noteTimescaleServerSkipped();

const T0 = Date.parse('2026-11-21T08:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe.each(STORAGE_MODES)('storage contract, alerts: $name', (mode) => {
  const { db, owned } = useMigratedDatabase(mode);

  const own = (prefix: string) => `${prefix}-${randomUUID()}`;
  const gasRule = (id: string, deviceId: string): AlertRule => ({
    id, name: 'Combustible gas', scope: { metric: 'gas_lel', deviceId }, condition: { type: 'above', trigger: 20, clear: 15 },
    forSeconds: 0, severity: 'warning', enabled: true,
  });
  const gas = (deviceId: string, seconds: number, value: number): CanonicalReading => ({ time: at(seconds), deviceId, metric: 'gas_lel', value, quality: 'good' });
  const evaluate = (readings: CanonicalReading[], on: Database = db) => on.transaction((tx) => evaluateAlertRules(tx, readings));

  async function ownDevice(district?: string): Promise<string> {
    const id = own('dev');
    await insertDevice(db, { id, domain: 'safety', name: id, secretHash: 'unused' });
    if (district !== undefined) await db.query('UPDATE devices SET district = $2 WHERE id = $1', [id, district]);
    return id;
  }

  it('stores rules, refuses a taken id, replaces and deletes them, and seeds only absent ones', async () => {
    const id = own('rule');
    const rule = gasRule(id, 'x');
    expect(await insertRule(db, rule)).toMatchObject({ rule, builtin: false });
    expect(await insertRule(db, { ...rule, name: 'other' })).toBeUndefined();
    expect((await replaceRule(db, { ...rule, severity: 'critical' }))?.rule.severity).toBe('critical');
    expect(await seedRules(db, [{ ...rule, name: 'seeded' }, gasRule(`${id}-2`, 'x')])).toBe(1);
    expect((await findRule(db, id))?.rule.name).toBe('Combustible gas');
    expect((await findRule(db, `${id}-2`))?.builtin).toBe(true);
    expect((await listRules(db)).map((stored) => stored.rule.id)).toEqual(expect.arrayContaining([id, `${id}-2`]));
    expect(await deleteRule(db, id)).toBe(true);
    expect(await deleteRule(db, id)).toBe(false);
  });

  it('opens an alert once, keeps it through hysteresis, clears it when the condition clears, and keeps history', async () => {
    const deviceId = await ownDevice('futian');
    const ruleId = own('gas');
    await insertRule(db, gasRule(ruleId, deviceId));

    const first = await evaluate([gas(deviceId, 0, 5), gas(deviceId, 10, 25)]);
    expect(first.opened).toEqual([expect.objectContaining({ ruleId, deviceId, state: 'open', severity: 'warning', domain: 'safety', district: 'futian', openedAt: at(10), openValue: 25 })]);
    // Still above the clear level, then a late reading: nothing changes.
    expect(await evaluate([gas(deviceId, 20, 16), gas(deviceId, 5, 0)])).toEqual({ opened: [], cleared: [] });
    const cleared = await evaluate([gas(deviceId, 30, 14)]);
    expect(cleared.cleared).toEqual([expect.objectContaining({ id: first.opened[0]!.id, state: 'cleared', clearedBy: 'condition', clearedAt: at(30), clearValue: 14 })]);
    const again = await evaluate([gas(deviceId, 40, 30)]);
    expect(again.opened).toHaveLength(1);
    const history = await listAlerts(db, { deviceId, limit: 10 });
    expect(history.map((alert) => alert.state)).toEqual(['open', 'cleared']);
  });

  it('makes one active alert per rule and series a database guarantee', async () => {
    const deviceId = await ownDevice();
    const ruleId = own('dup');
    const alert = { ruleId, deviceId, metric: 'gas_lel', severity: 'critical' as const, domain: 'safety', district: undefined, openedAt: at(0), openValue: 60 };
    expect(await openAlert(db, alert)).toBeDefined();
    expect(await openAlert(db, { ...alert, openedAt: at(1) })).toBeUndefined();
  });

  it('acknowledges with a note, clears by hand, and does not reopen while the condition still holds', async () => {
    const deviceId = await ownDevice();
    const ruleId = own('ack');
    await insertRule(db, gasRule(ruleId, deviceId));
    const [opened] = (await evaluate([gas(deviceId, 0, 40)])).opened;
    const acked = await acknowledgeAlert(db, opened!.id, 'key-1', 'crew dispatched', at(5));
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'key-1', ackNote: 'crew dispatched', acknowledgedAt: at(5) });
    expect(await acknowledgeAlert(db, opened!.id, 'key-1', 'twice')).toBeUndefined();
    expect(await clearAlertManually(db, opened!.id, 'key-2', at(6))).toMatchObject({ state: 'cleared', clearedBy: 'key-2' });
    expect(await clearAlertManually(db, opened!.id, 'key-2')).toBeUndefined();
    expect((await evaluate([gas(deviceId, 10, 45)])).opened).toEqual([]);
    expect((await evaluate([gas(deviceId, 20, 10), gas(deviceId, 30, 45)])).opened).toHaveLength(1);
    expect(await findAlert(db, 'not-a-number')).toBeUndefined();
  });

  it('lists alerts newest first with filters and a keyset cursor without gaps or repeats', async () => {
    const district = own('district');
    const devices = [await ownDevice(district), await ownDevice(district), await ownDevice(district)];
    for (const [index, deviceId] of devices.entries()) {
      const ruleId = own('list');
      await insertRule(db, { ...gasRule(ruleId, deviceId), severity: index === 0 ? 'critical' : 'warning' });
      await evaluate([gas(deviceId, index, 50)]);
    }
    const all = await listAlerts(db, { district, limit: 10 });
    expect(all.map((alert) => alert.deviceId)).toEqual([...devices].reverse());
    const page1 = await listAlerts(db, { district, limit: 2 });
    const last = page1[page1.length - 1]!;
    const page2 = await listAlerts(db, { district, limit: 2, after: { openedAt: last.openedAt, id: last.id } });
    expect([...page1, ...page2].map((alert) => alert.id)).toEqual(all.map((alert) => alert.id));
    expect((await listAlerts(db, { district, severities: ['critical'], limit: 10 })).map((alert) => alert.deviceId)).toEqual([devices[0]]);
    expect(await listAlerts(db, { district, states: ['cleared'], limit: 10 })).toEqual([]);
    expect(await listAlerts(db, { district, from: at(1), to: at(2), limit: 10 })).toHaveLength(1);
  });

  describe('device health', () => {
    const policy = { defaultExpectedIntervalS: 3600, factor: 2 };
    const offlineAlerts = async (deviceId: string) => (await listAlerts(db, { deviceId, limit: 10 })).filter((alert) => alert.ruleId === OFFLINE_RULE_ID);
    const heardFrom = (deviceId: string) => db.transaction((tx) => touchDevices(tx, new Map([[deviceId, new Date()]])));

    it('opens an offline alert for a device silent longer than its interval × the factor, and clears it when it reports again', async () => {
      const deviceId = await ownDevice('futian');
      await db.query('UPDATE devices SET expected_interval_s = 1 WHERE id = $1', [deviceId]);
      await heardFrom(deviceId);
      expect((await checkOffline(db, policy))?.opened.map((alert) => alert.deviceId)).not.toContain(deviceId);
      await new Promise((resolve) => setTimeout(resolve, 2_200)); // silent for more than 1 s × 2
      const opened = await checkOffline(db, policy);
      expect(opened?.opened).toContainEqual(expect.objectContaining({ deviceId, ruleId: OFFLINE_RULE_ID, state: 'open', district: 'futian' }));
      expect((await checkOffline(db, policy))?.opened.map((alert) => alert.deviceId)).not.toContain(deviceId);
      await heardFrom(deviceId);
      expect((await checkOffline(db, policy))?.cleared.map((alert) => alert.deviceId)).toContain(deviceId);
      expect((await offlineAlerts(deviceId)).map((alert) => [alert.state, alert.clearedBy])).toEqual([['cleared', 'condition']]);
    });

    it("uses the profile's expected interval for devices without their own, and a device's own interval over its profile's", async () => {
      const profile = own('slow-logger');
      const [byProfile, ownInterval] = [await ownDevice(), await ownDevice()];
      await db.query('UPDATE devices SET profile = $2 WHERE id = ANY($1::text[])', [[byProfile, ownInterval], profile]);
      await db.query('UPDATE devices SET expected_interval_s = 3600 WHERE id = $1', [ownInterval]);
      await heardFrom(byProfile);
      await heardFrom(ownInterval);
      const withProfiles = { ...policy, profileIntervalsS: new Map([[profile, 1]]) };
      await new Promise((resolve) => setTimeout(resolve, 2_200)); // silent for more than the profile's 1 s × 2
      const opened = (await checkOffline(db, withProfiles))?.opened.map((alert) => alert.deviceId);
      expect(opened).toContain(byProfile);
      expect(opened).not.toContain(ownInterval);
    });

    it("applies a device's status messages in the order they happened, whatever order they are processed in", async () => {
      const deviceId = await ownDevice();
      const t = (seconds: number) => new Date(Date.UTC(2026, 10, 21, 8, 0, seconds));
      const online = async () => (await db.query<{ online: boolean | null }>('SELECT online FROM devices WHERE id = $1', [deviceId])).rows[0]?.online;
      expect(await setDeviceStatus(db, deviceId, true, t(10))).toBe(true);
      // The will of the connection before (t=5) is processed after the birth of the new one (t=10).
      expect(await setDeviceStatus(db, deviceId, false, t(5))).toBe(false);
      expect(await online()).toBe(true);
      expect(await setDeviceStatus(db, deviceId, false, t(20))).toBe(true);
      expect(await online()).toBe(false);
    });

    it('flags a device that keeps sending but whose source timestamps stopped advancing, and clears it when they move again', async () => {
      const deviceId = await ownDevice();
      await db.query('UPDATE devices SET expected_interval_s = 1 WHERE id = $1', [deviceId]);
      const sentAt = (ageMs: number) => db.transaction((tx) => touchDevices(tx, new Map([[deviceId, new Date(Date.now() - ageMs)]])));
      await sentAt(0);
      expect((await checkOffline(db, policy))?.opened.map((alert) => alert.deviceId)).not.toContain(deviceId);
      // A stuck clock: batches keep arriving, the newest source time stays a minute back.
      await db.query(`UPDATE device_health SET last_source_time = now() - interval '60 seconds' WHERE device_id = $1`, [deviceId]);
      const stale = await checkOffline(db, policy);
      expect(stale?.opened).toContainEqual(expect.objectContaining({ deviceId, ruleId: STALE_CLOCK_RULE_ID }));
      await sentAt(0);
      expect((await checkOffline(db, policy))?.cleared).toContainEqual(expect.objectContaining({ deviceId, ruleId: STALE_CLOCK_RULE_ID, clearedBy: 'condition' }));
    });

    it('marks a device whose session died offline at once, and does not reopen an alert cleared by hand until it is heard from', async () => {
      const deviceId = await ownDevice();
      await heardFrom(deviceId);
      await db.query('UPDATE devices SET online = false WHERE id = $1', [deviceId]);
      const [alert] = (await checkOffline(db, policy))!.opened.filter((opened) => opened.deviceId === deviceId);
      expect(alert).toBeDefined();
      await clearAlertManually(db, alert!.id, 'key-1');
      expect((await checkOffline(db, policy))?.opened.map((opened) => opened.deviceId)).not.toContain(deviceId);
      await heardFrom(deviceId);
      expect((await checkOffline(db, policy))?.opened.map((opened) => opened.deviceId)).toContain(deviceId);
      await db.query('UPDATE devices SET online = true WHERE id = $1', [deviceId]);
      expect((await checkOffline(db, policy))?.cleared.map((cleared) => cleared.deviceId)).toContain(deviceId);
    });
  });

  it('two evaluations of the same series at once (two processes on a server) never open the same alert twice', async () => {
    // On a server: a second connection, as a second worker process has. Embedded PGlite has
    // one connection, shared by every worker in its one process: the two race on it.
    const other = mode.server ? await owned().open() : db;
    const deviceIds = await Promise.all(Array.from({ length: 8 }, () => ownDevice()));
    for (const deviceId of deviceIds) await insertRule(db, gasRule(own('race'), deviceId));
    // Each series gets two batches that both trigger, one per process, at the same moment.
    const results = await Promise.all(deviceIds.flatMap((deviceId) => [
      evaluate([gas(deviceId, 0, 30)], db),
      evaluate([gas(deviceId, 1, 35)], other),
    ]));
    const opened = results.flatMap((result) => result.opened);
    expect(opened.map((alert) => alert.deviceId).sort()).toEqual([...deviceIds].sort());
    for (const deviceId of deviceIds) expect(await listAlerts(db, { deviceId, limit: 10 })).toHaveLength(1);
  });
});
