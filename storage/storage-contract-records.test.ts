import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePayload } from '../contracts/envelope.js';
import { countAdminKeys, findApiKey, insertApiKey } from './api-keys-store.js';
import { findDevice, findDeviceCredentials, insertDevice, listDevices, resolveDeviceNums, type Device } from './devices-store.js';
import { insertQuarantine, listQuarantine, MAX_QUARANTINED_PAYLOAD_CHARS, type QuarantineEntry } from './quarantine-store.js';
import { noteTimescaleServerSkipped, STORAGE_MODES, useMigratedDatabase } from '../test/support/storage-modes.js';

/*
 * The storage contract, part 3: devices, API keys and quarantine. Same tests, same
 * expectations on every database mode; see storage-contract.test.ts for the schema.
 */

noteTimescaleServerSkipped();

const MAX = MAX_QUARANTINED_PAYLOAD_CHARS;
const RECEIVED_AT = new Date('2026-05-04T03:02:01.123Z');

describe.each(STORAGE_MODES)('storage contract, records: $name', (mode) => {
  const { db } = useMigratedDatabase(mode);

  const ownId = (prefix: string) => `${prefix}-${randomUUID()}`;

  describe('devices', () => {
    it('are inserted once: a taken id answers undefined and leaves the first device as it was', async () => {
      const id = ownId('dev');
      const device = await insertDevice(db, { id, domain: 'water', name: 'Weir 3 level', secretHash: 'hash-1' });
      expect(device).toEqual({ id, domain: 'water', name: 'Weir 3 level', disabled: false, createdAt: expect.any(Date), updatedAt: expect.any(Date) });
      expect(Math.abs(device!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(device!.updatedAt).toEqual(device!.createdAt);

      expect(await insertDevice(db, { id, domain: 'grid', name: 'impostor', secretHash: 'hash-2' })).toBeUndefined();
      expect(await findDevice(db, id)).toEqual(device);
      expect(await findDeviceCredentials(db, id)).toMatchObject({ secretHash: 'hash-1' });
      expect(await findDevice(db, ownId('absent'))).toBeUndefined();
    });

    it('list in id order, page with afterId without gaps or repeats, and filter by domain', async () => {
      // Suffixes whose byte order differs from a natural-language collation: every mode must answer the same order.
      const prefix = ownId('ls');
      const domains = ['water', 'grid'] as const;
      const ids = ['b', 'A', '_1', '10', '9', 'a', '-1', 'Z', 'B'].map((suffix) => `${prefix}-${suffix}`);
      for (const [index, id] of ids.entries()) {
        await insertDevice(db, { id, domain: domains[index % 2]!, name: id, secretHash: 'unused' });
      }
      const mine = (devices: Device[]) => devices.filter((device) => device.id.startsWith(prefix));
      const byteOrder = (list: string[]) => [...list].sort();

      async function allPages(domain: 'water' | 'grid' | undefined): Promise<Device[][]> {
        const pages: Device[][] = [];
        let afterId: string | undefined;
        for (;;) {
          const page = await listDevices(db, { afterId, limit: 4, domain });
          pages.push(page);
          if (page.length < 4) return pages;
          afterId = page.at(-1)!.id;
        }
      }
      for (const domain of [undefined, 'water', 'grid'] as const) {
        const listed = (await allPages(domain)).flat();
        expect(listed.map((device) => device.id)).toEqual(byteOrder(listed.map((device) => device.id)));
        expect(new Set(listed.map((device) => device.id)).size).toBe(listed.length);
        if (domain !== undefined) expect(listed.every((device) => device.domain === domain)).toBe(true);
        const expected = ids.filter((_, index) => domain === undefined || domains[index % 2] === domain);
        expect(mine(listed).map((device) => device.id)).toEqual(byteOrder(expected));
      }
      const last = byteOrder(ids).at(-1)!;
      expect(mine(await listDevices(db, { afterId: last, limit: 100, domain: undefined }))).toEqual([]);
    });

    it('answer credentials by id, and resolve storage numbers ignoring unknown ids', async () => {
      const [first, second] = [ownId('cred'), ownId('cred')];
      await insertDevice(db, { id: first, domain: 'safety', name: 'gas 1', secretHash: 'scrypt$first' });
      await insertDevice(db, { id: second, domain: 'safety', name: 'gas 2', secretHash: 'scrypt$second' });
      await db.query('UPDATE devices SET disabled = true WHERE id = $1', [second]);
      const nums = await db.query<{ id: string; num: number }>('SELECT id, num FROM devices WHERE id = ANY($1::text[])', [[first, second]]);
      const numOf = new Map(nums.rows.map((row) => [row.id, row.num]));

      expect(await findDeviceCredentials(db, first)).toEqual({ num: numOf.get(first), secretHash: 'scrypt$first', disabled: false });
      expect(await findDeviceCredentials(db, second)).toEqual({ num: numOf.get(second), secretHash: 'scrypt$second', disabled: true });
      expect(await findDeviceCredentials(db, ownId('absent'))).toBeUndefined();
      expect(await resolveDeviceNums(db, [first, ownId('absent'), second, first])).toEqual(numOf);
      expect(await resolveDeviceNums(db, [ownId('absent')])).toEqual(new Map());
      expect(await resolveDeviceNums(db, [])).toEqual(new Map());
    });
  });

  describe('api keys', () => {
    it('are found by id until revoked', async () => {
      const key = { id: ownId('key'), secretHash: 'sha256$abc', role: 'reader' as const, name: 'dashboard' };
      const stored = await insertApiKey(db, key);
      expect(stored).toEqual({ ...key, createdAt: expect.any(Date) });
      expect(Math.abs(stored.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await findApiKey(db, key.id)).toEqual(stored);
      expect(await findApiKey(db, ownId('absent'))).toBeUndefined();

      await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
      expect(await findApiKey(db, key.id)).toBeUndefined();
    });

    it('count active admin keys only', async () => {
      const before = await countAdminKeys(db);
      expect(typeof before).toBe('number');
      const add = (role: 'admin' | 'reader') => insertApiKey(db, { id: ownId('key'), secretHash: 'h', role, name: role });
      const [, revoked] = [await add('admin'), await add('admin'), await add('reader')];
      expect(await countAdminKeys(db)).toBe(before + 2);
      await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [revoked!.id]);
      expect(await countAdminKeys(db)).toBe(before + 1);
    });
  });

  describe('quarantine', () => {
    function entry(envelopeId: string, item: number, extra: Partial<QuarantineEntry> = {}): QuarantineEntry {
      return {
        envelopeId, item, source: 'mqtt', deviceId: undefined, topic: 'sensors/x/telemetry', receivedAt: RECEIVED_AT,
        reason: 'payload_not_json', message: 'payload is not valid JSON', payload: '{oops', payloadEncoding: 'utf8', ...extra,
      };
    }
    const list = (deviceId: string, extra: { reason?: string; beforeId?: number; limit?: number } = {}) =>
      listQuarantine(db, { deviceId, reason: extra.reason, beforeId: extra.beforeId, limit: extra.limit ?? 100 });

    it('stores each (envelope, item) once: a retried job does not quarantine twice', async () => {
      const deviceId = ownId('q');
      const envelope = randomUUID();
      const first = [-1, 0, 1].map((item) => entry(envelope, item, { deviceId, message: `first ${item}` }));
      expect(await insertQuarantine(db, first)).toBe(3);
      const retry = [entry(envelope, 0, { deviceId, message: 'retry 0' }), entry(envelope, 2, { deviceId, message: 'retry 2' })];
      expect(await insertQuarantine(db, retry)).toBe(1);
      expect(await insertQuarantine(db, [])).toBe(0);

      const listed = await list(deviceId);
      expect(listed.map((row) => row.message)).toEqual(['retry 2', 'first 1', 'first 0', 'first -1']);
      expect(listed[0]).toEqual({
        id: expect.any(Number), deviceId, source: 'mqtt', topic: 'sensors/x/telemetry', receivedAt: RECEIVED_AT,
        quarantinedAt: expect.any(Date), reason: 'payload_not_json', message: 'retry 2', payload: '{oops', payloadEncoding: 'utf8',
      });
      expect(Math.abs(listed[0]!.quarantinedAt.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it(`cuts payloads to ${MAX} characters, never inside a character`, async () => {
      const deviceId = ownId('q');
      const payloads = {
        ascii: 'x'.repeat(MAX + 100),
        exact: 'y'.repeat(MAX),
        chinese: '天津水位'.repeat(MAX),
        // An emoji is two UTF-16 units; cutting between them would store a replacement character.
        emoji: `${'z'.repeat(MAX - 1)}😀tail`,
      };
      await insertQuarantine(db, Object.values(payloads).map((payload, item) => entry(randomUUID(), item, { deviceId, payload })));
      // Compared by length, tail and prefix so a failure prints a readable diff, not 16 000 characters.
      const summary = (original: string, stored: string) => ({ length: stored.length, tail: stored.slice(-3), prefix: original.startsWith(stored) });
      const stored = (await list(deviceId)).reverse().map((row) => row.payload);
      expect(stored.map((payload, index) => summary(Object.values(payloads)[index]!, payload))).toEqual([
        { length: MAX, tail: 'xxx', prefix: true },
        { length: MAX, tail: 'yyy', prefix: true },
        { length: MAX, tail: payloads.chinese.slice(MAX - 3, MAX), prefix: true },
        { length: MAX - 1, tail: 'zzz', prefix: true },
      ]);
    });

    it('keeps messages whose payload or error text holds NUL characters, the payload losslessly', async () => {
      // Valid UTF-8, so the gateway sends it as text, and JSON.parse's error quotes it;
      // PostgreSQL text cannot hold U+0000, and one such message must not fail the whole job.
      const deviceId = ownId('q');
      const payload = '{"metrics":{"level":\u0000}}';
      const message = `payload is not valid JSON: Unexpected token '\u0000'`;
      expect(await insertQuarantine(db, [entry(randomUUID(), -1, { deviceId, payload, message })])).toBe(1);
      const [row] = await list(deviceId);
      expect(decodePayload({ payload: row!.payload, payloadEncoding: row!.payloadEncoding as 'utf8' | 'base64' })).toEqual(
        Buffer.from(payload, 'utf8'),
      );
      expect(row!.message).toBe(String.raw`payload is not valid JSON: Unexpected token '\u0000'`);
    });

    it('lists by device and reason, newest first, paging with beforeId', async () => {
      const [deviceId, otherDevice] = [ownId('q'), ownId('q')];
      const reasons = ['metric_unknown', 'value_out_of_range', 'metric_unknown', 'metric_unknown', 'value_out_of_range', 'metric_unknown'] as const;
      for (const [index, reason] of reasons.entries()) {
        await insertQuarantine(db, [
          entry(randomUUID(), index, { deviceId, reason, message: `mine ${index}` }),
          entry(randomUUID(), index, { deviceId: otherDevice, reason, message: `other ${index}` }),
        ]);
      }
      const newestFirst = (reason: string | undefined) =>
        reasons.flatMap((r, index) => (reason === undefined || r === reason ? [`mine ${index}`] : [])).reverse();

      for (const reason of [undefined, 'metric_unknown', 'value_out_of_range']) {
        const pages: string[][] = [];
        let beforeId: number | undefined;
        for (;;) {
          const page = await list(deviceId, { reason, beforeId, limit: 2 });
          pages.push(page.map((row) => row.message));
          if (page.length < 2) break;
          beforeId = page.at(-1)!.id;
        }
        expect(pages.flat()).toEqual(newestFirst(reason));
      }
      expect((await list(deviceId)).every((row) => row.deviceId === deviceId)).toBe(true);
      expect(await list(ownId('absent'))).toEqual([]);
    });
  });
});
