import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findDeviceCredentials, insertDevice } from './devices-store.js';
import { loadMetricDictionary } from './metric-dictionary.js';
import { insertReadings, queryLatest, queryRawRange, type RangeRow, type StoredReading } from './readings-store.js';
import { querySnapshot } from './snapshot-store.js';
import { noteTimescaleServerSkipped, STORAGE_MODES, useMigratedDatabase } from '../test/support/storage-modes.js';

/*
 * The storage contract, part 2: readings. Same tests, same expectations on every
 * database mode; see storage-contract.test.ts for the schema.
 */

noteTimescaleServerSkipped();

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function reading(deviceNum: number, metricNum: number, time: Date, value: number, extra: Partial<StoredReading> = {}): StoredReading {
  return { time, deviceNum, metricNum, value, qualityCode: 0, sourceQuality: undefined, ...extra };
}

/** What queryRawRange should answer for these stored readings, computed without the database. */
function expectedRange(readings: readonly StoredReading[]): RangeRow[] {
  return [...readings]
    .sort((a, b) => a.time.getTime() - b.time.getTime() || a.metricNum - b.metricNum)
    .map((r) => ({ time: r.time, metricNum: r.metricNum, value: r.value, qualityCode: r.qualityCode, sourceQuality: r.sourceQuality }));
}

describe.each(STORAGE_MODES)('storage contract, readings: $name', (mode) => {
  const { db } = useMigratedDatabase(mode);

  /** A device of the test's own, by its storage number. */
  async function ownDevice(): Promise<number> {
    const id = `dev-${randomUUID()}`;
    await insertDevice(db, { id, domain: 'environment', name: id, secretHash: 'unused' });
    return (await findDeviceCredentials(db, id))!.num;
  }

  /** Metric numbers of the test's own keys, in the order given. */
  async function ownMetrics(count: number): Promise<{ keys: string[]; nums: number[] }> {
    const prefix = `m_${randomUUID().slice(0, 8)}`;
    const keys = Array.from({ length: count }, (_, index) => `${prefix}_${String(index).padStart(3, '0')}`);
    const dictionary = await loadMetricDictionary(db, keys);
    return { keys, nums: keys.map((key) => dictionary.numOf(key)!) };
  }

  const everything = (deviceNum: number) =>
    queryRawRange(db, { deviceNum, metricNums: undefined, from: new Date(0), to: at(1e9), limit: 10_000, after: undefined });

  describe('insertReadings', () => {
    it('returns the number of new rows, and 0 when the same batch is delivered again', async () => {
      const device = await ownDevice();
      const { nums: [a, b] } = await ownMetrics(2);
      const batch = [reading(device, a!, at(0), 1), reading(device, a!, at(1), 2), reading(device, b!, at(0), 3)];
      expect(await insertReadings(db, batch)).toBe(3);
      expect(await insertReadings(db, batch)).toBe(0);
      expect(await insertReadings(db, [])).toBe(0);
      expect(await everything(device)).toEqual(expectedRange(batch));
    });

    it('stores a (device, metric, time) once: the first delivery wins, in one batch and across batches', async () => {
      const device = await ownDevice();
      const { nums: [a] } = await ownMetrics(1);
      const first = reading(device, a!, at(5), 10);
      expect(await insertReadings(db, [first, { ...first, value: 11 }, reading(device, a!, at(6), 12)])).toBe(2);
      expect(await insertReadings(db, [{ ...first, value: 13 }, reading(device, a!, at(7), 14)])).toBe(1);
      expect((await everything(device)).map((row) => [row.time, row.value])).toEqual([[at(5), 10], [at(6), 12], [at(7), 14]]);
    });

    it('stores a late reading, older than those stored, in its place in time', async () => {
      const device = await ownDevice();
      const { nums: [a] } = await ownMetrics(1);
      await insertReadings(db, [reading(device, a!, at(100), 1), reading(device, a!, at(200), 2)]);
      expect(await insertReadings(db, [reading(device, a!, at(-86_400 * 30), 0)])).toBe(1);
      expect((await everything(device)).map((row) => [row.time, row.value])).toEqual([[at(-86_400 * 30), 0], [at(100), 1], [at(200), 2]]);
    });

    it('keeps readings of other devices and metrics at the same instant apart', async () => {
      const devices = [await ownDevice(), await ownDevice()];
      const { nums } = await ownMetrics(3);
      const batch = devices.flatMap((device, d) => nums.map((metric, m) => reading(device, metric, at(0), d * 10 + m)));
      expect(await insertReadings(db, batch)).toBe(6);
      for (const device of devices) {
        expect(await everything(device)).toEqual(expectedRange(batch.filter((r) => r.deviceNum === device)));
      }
    });

    it('gives back every float64, quality code and source quality exactly as written', async () => {
      const device = await ownDevice();
      const { nums: [a] } = await ownMetrics(1);
      const values = [0.1 + 0.2, -0, 0, 1e-300, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, -273.15, 2 ** 53 + 2, 1 / 3];
      const sourceQualities = [undefined, 0, -1, -2_147_483_648, 2_147_483_647, 0x40_00_00_00];
      const batch = values.map((value, index) =>
        reading(device, a!, at(index), value, { qualityCode: index % 3, sourceQuality: sourceQualities[index % sourceQualities.length] }),
      );
      await insertReadings(db, batch);
      const rows = await everything(device);
      expect(rows).toEqual(expectedRange(batch));
      // toEqual already compares with Object.is; spelled out for the values that are easy to lose.
      expect(Object.is(rows[1]!.value, -0)).toBe(true);
      expect(rows.map((row) => row.value)).toEqual(values);
      expect(rows.map((row) => typeof row.sourceQuality)).toEqual(batch.map((r) => typeof r.sourceQuality));
    });
  });

  describe('queryRawRange', () => {
    it('includes from, excludes to, filters metrics and orders by time then metric', async () => {
      const device = await ownDevice();
      const { nums } = await ownMetrics(3);
      const [a, b, c] = nums as [number, number, number];
      // Written out of order, so the answer's order cannot come from insertion order.
      const batch = [4, 1, 3, 0, 2, 5].flatMap((second) => [c, a, b].map((metric) => reading(device, metric, at(second), second * 100 + metric)));
      await insertReadings(db, batch);

      const range = { deviceNum: device, from: at(1), to: at(4), limit: 100, after: undefined };
      const inRange = batch.filter((r) => r.time >= at(1) && r.time < at(4));
      expect(await queryRawRange(db, { ...range, metricNums: undefined })).toEqual(expectedRange(inRange));
      expect(await queryRawRange(db, { ...range, metricNums: [c, a] })).toEqual(
        expectedRange(inRange.filter((r) => r.metricNum !== b)),
      );
      expect(await queryRawRange(db, { ...range, metricNums: [] })).toEqual([]);
      expect(await queryRawRange(db, { ...range, from: at(4), to: at(4), metricNums: undefined })).toEqual([]);
      expect(await queryRawRange(db, { ...range, limit: 4, metricNums: undefined })).toEqual(expectedRange(inRange).slice(0, 4));
    });

    it('pages with the keyset cursor through many readings sharing one instant: no gaps, no repeats', async () => {
      const device = await ownDevice();
      const { nums } = await ownMetrics(25);
      // 25 metrics at each of 4 instants, pages of 7: most pages start and end inside one instant.
      const batch = [0, 1, 2, 3].flatMap((second) => nums.map((metric) => reading(device, metric, at(second), metric + second / 10)));
      await insertReadings(db, batch);

      const pages: RangeRow[][] = [];
      let after: { time: Date; metricNum: number } | undefined;
      for (;;) {
        const page = await queryRawRange(db, { deviceNum: device, metricNums: undefined, from: at(0), to: at(4), limit: 7, after });
        pages.push(page);
        const last = page.at(-1);
        if (page.length < 7 || last === undefined) break;
        after = { time: last.time, metricNum: last.metricNum };
        expect(pages.length).toBeLessThan(100);
      }
      expect(pages.map((page) => page.length)).toEqual([...Array<number>(14).fill(7), 2]);
      expect(pages.flat()).toEqual(expectedRange(batch));
    });

    it('pages newest first with the same cursor: exactly the ascending answer reversed, within from/to and the metric filter', async () => {
      const device = await ownDevice();
      const { nums } = await ownMetrics(9);
      const batch = [5, 0, 3, 1, 4, 2].flatMap((second) => nums.map((metric) => reading(device, metric, at(second), metric * 10 + second)));
      await insertReadings(db, batch);
      const wanted = nums.filter((_, index) => index % 3 !== 1);

      const pages: RangeRow[][] = [];
      let after: { time: Date; metricNum: number } | undefined;
      for (;;) {
        const page = await queryRawRange(db, { deviceNum: device, metricNums: wanted, from: at(1), to: at(5), limit: 4, after, order: 'desc' });
        pages.push(page);
        const last = page.at(-1);
        if (page.length < 4 || last === undefined) break;
        after = { time: last.time, metricNum: last.metricNum };
        expect(pages.length).toBeLessThan(100);
      }
      const inRange = batch.filter((r) => r.time >= at(1) && r.time < at(5) && wanted.includes(r.metricNum));
      expect(pages.flat()).toEqual(expectedRange(inRange).reverse());
      expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 4, 4, 4, 0]);
      expect(pages[0]![0]).toMatchObject({ time: at(4), metricNum: Math.max(...wanted) });
    });
  });

  describe('queryLatest', () => {
    it("answers each metric's newest reading of one device, and nothing of other devices", async () => {
      const [device, other, silent] = [await ownDevice(), await ownDevice(), await ownDevice()];
      const { keys, nums } = await ownMetrics(3);
      const [a, b, onlyOther] = nums as [number, number, number];
      await insertReadings(db, [
        reading(device, a, at(20), 2, { qualityCode: 1, sourceQuality: -5 }),
        reading(device, b, at(10), 3),
        reading(other, a, at(30), 9),
        reading(other, onlyOther, at(30), 9),
      ]);
      // Late: older than the stored one, so it must not become the latest.
      await insertReadings(db, [reading(device, a, at(15), 1)]);

      expect(await queryLatest(db, device)).toEqual([
        { metricKey: keys[0], metricNum: a, time: at(20), value: 2, qualityCode: 1, sourceQuality: -5 },
        { metricKey: keys[1], metricNum: b, time: at(10), value: 3, qualityCode: 0, sourceQuality: undefined },
      ]);
      expect((await queryLatest(db, other)).map((row) => row.metricKey)).toEqual([keys[0], keys[2]]);
      expect(await queryLatest(db, silent)).toEqual([]);
    });

    it('keeps the newest of a batch, ignores a redelivery with another value, and is not moved back by a late batch', async () => {
      const device = await ownDevice();
      const { nums: [metric] } = await ownMetrics(1);
      // The newest is in the middle of the batch, not its last row.
      await insertReadings(db, [reading(device, metric!, at(10), 1), reading(device, metric!, at(30), 3), reading(device, metric!, at(20), 2)]);
      // The same instant again with another value: the first delivery stays, in the readings and as the latest.
      await insertReadings(db, [reading(device, metric!, at(30), 99, { qualityCode: 2 })]);
      await insertReadings(db, [reading(device, metric!, at(25), 4), reading(device, metric!, at(5), 5)]);
      expect((await queryLatest(db, device)).map((row) => [row.time, row.value, row.qualityCode])).toEqual([[at(30), 3, 0]]);

      await insertReadings(db, [reading(device, metric!, at(31), 6, { qualityCode: 1, sourceQuality: 192 })]);
      expect((await queryLatest(db, device)).map((row) => [row.time, row.value, row.qualityCode, row.sourceQuality])).toEqual([[at(31), 6, 1, 192]]);
    });

    it('concurrent batches of the same series, in any order: every one commits and the newest reading of each series wins', async () => {
      const [first, second] = [await ownDevice(), await ownDevice()];
      const { keys, nums } = await ownMetrics(3);
      const series = [first, second].flatMap((device) => nums.map((metric) => ({ device, metric })));
      // Twelve batches over the same six series, each with its own instants, rows shuffled (a fixed permutation).
      const batches = Array.from({ length: 12 }, (_, batch) =>
        series.map(({ device, metric }, index) => reading(device, metric, at(((batch * 7 + index * 5) % 12) * 100 + index), batch * 10 + index))
          .sort((a, b) => ((a.value * 37) % 11) - ((b.value * 37) % 11)));
      const inserted = await Promise.all(batches.map((batch) => db.transaction((tx) => insertReadings(tx, batch))));
      expect(inserted).toEqual(batches.map((batch) => batch.length));
      for (const device of [first, second]) {
        const expected = nums.map((metric, index) => {
          const newest = batches.flat().filter((row) => row.deviceNum === device && row.metricNum === metric)
            .reduce((best, row) => (row.time > best.time ? row : best));
          return [keys[index], newest.time, newest.value];
        });
        expect((await queryLatest(db, device)).map((row) => [row.metricKey, row.time, row.value])).toEqual(expected);
      }
    });
  });

  describe('querySnapshot', () => {
    it('gives each device of the page its newest reading per series, every float64 exact, leaving out devices with none', async () => {
      const prefix = `snap-${randomUUID()}-`;
      const [a, silent, c] = ['a', 'b', 'c'].map((suffix) => prefix + suffix) as [string, string, string];
      const nums: number[] = [];
      for (const id of [a, silent, c]) {
        await insertDevice(db, { id, domain: 'safety', name: id, secretHash: 'unused' });
        nums.push((await findDeviceCredentials(db, id))!.num);
      }
      const [numA, , numC] = nums as [number, number, number];
      const { nums: metrics } = await ownMetrics(3);
      const [m0, m1, m2] = metrics as [number, number, number];
      await insertReadings(db, [
        reading(numA, m0, at(10.001), 0.1 + 0.2),
        reading(numA, m0, at(20.345), 5e-324),
        reading(numA, m1, at(15), -0, { qualityCode: 2 }),
        reading(numA, m2, at(16), Number.MAX_VALUE, { qualityCode: 1 }),
        reading(numC, m0, at(30), -123.456e-7),
      ]);
      const page = await querySnapshot(db, { domain: 'safety', metricNums: undefined, district: undefined, bbox: undefined, afterId: prefix, limit: 3 });
      expect(page).toEqual({
        scanned: 3,
        lastDeviceId: c,
        devices: [
          {
            deviceId: a, domain: 'safety', district: undefined, location: undefined, readings: [
              { metricNum: m0, time: at(20.345), value: 5e-324, qualityCode: 0 },
              { metricNum: m1, time: at(15), value: -0, qualityCode: 2 },
              { metricNum: m2, time: at(16), value: Number.MAX_VALUE, qualityCode: 1 },
            ],
          },
          { deviceId: c, domain: 'safety', district: undefined, location: undefined, readings: [{ metricNum: m0, time: at(30), value: -123.456e-7, qualityCode: 0 }] },
        ],
      });
      const onlyM1 = await querySnapshot(db, { domain: 'safety', metricNums: [m1], district: undefined, bbox: undefined, afterId: prefix, limit: 3 });
      expect(onlyM1.devices.map((device) => [device.deviceId, device.readings.map((r) => r.metricNum)])).toEqual([[a, [m1]]]);
      expect(onlyM1.scanned).toBe(3);
    });
  });
});
