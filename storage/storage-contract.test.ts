import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from './database.js';
import { loadMetricDictionary } from './metric-dictionary.js';
import { migrate, MIGRATIONS, type MigrationReport } from './migrate.js';
import { insertReadings, queryLatest, readingBatch, writeReadingBatch } from './readings-store.js';
import type { Migration } from './migration.js';
import type { OwnedDatabase } from '../test/support/storage-contract-modes.js';
import { noteTimescaleServerSkipped, STORAGE_MODES } from '../test/support/storage-modes.js';

/*
 * The storage contract, part 1: schema and metric dictionary. The same tests and the
 * same expectations on every database mode (DESIGN.md, "One stack, three database
 * modes"); readings are in storage-contract-readings.test.ts, devices, API keys and
 * quarantine in storage-contract-records.test.ts.
 */

noteTimescaleServerSkipped();

const VERSIONS = MIGRATIONS.map((migration) => migration.version).sort((a, b) => a - b);
// Relations the app reads and writes, the same in every mode: tables, partitioned tables,
// and the rollups (continuous aggregates are views in TimescaleDB, tables in plain PostgreSQL).
const TABLES = [
  'alert_rule_state', 'alert_rules', 'alerts', 'api_keys', 'device_health', 'devices', 'metrics', 'quarantine', 'reading_series', 'readings', 'rollup_1h', 'rollup_1m',
  'schema_migrations', 'sparkplug_births', 'sparkplug_edges', 'storage_settings',
];

/** Everything a migration could change, read from the catalogues rather than through our code. */
async function schemaSnapshot(db: Queryable) {
  const read = async (sql: string) => (await db.query(sql)).rows;
  return {
    tables: (await read(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)).map((row) => row.table_name),
    columns: await read(`
      SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`),
    indexes: await read(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`),
    extensions: await read(`SELECT extname, extversion FROM pg_extension ORDER BY extname`),
    migrations: await read(`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`),
  };
}

async function tableExists(db: Queryable, name: string): Promise<boolean> {
  const result = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`public.${name}`]);
  return result.rows[0]?.found !== null;
}

/** Runs `work` on a database of its own, always closing and removing it. */
async function withOwnDatabase<T>(owned: OwnedDatabase, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    await owned.dispose();
  }
}

describe.each(STORAGE_MODES)('storage contract: $name', (mode) => {
  let owned: OwnedDatabase | undefined;
  let db: Database;
  let firstReport: MigrationReport;

  beforeAll(async () => {
    owned = await mode.createDatabase();
    db = await owned.open();
    firstReport = await migrate(db);
  });
  afterAll(() => owned?.dispose());

  describe('migrations', () => {
    it('apply every migration once on an empty database and report whether TimescaleDB is there', async () => {
      expect(firstReport.applied).toEqual(VERSIONS);
      expect(firstReport.capabilities.timescale).toBe(mode.timescale);
      expect(typeof firstReport.capabilities.timescaleVersion).toBe(mode.timescale ? 'string' : 'undefined');
      const snapshot = await schemaSnapshot(db);
      expect(snapshot.tables).toEqual(TABLES);
      expect(snapshot.migrations.map((row) => [row.version, row.name])).toEqual(
        MIGRATIONS.map((migration) => [migration.version, migration.name]),
      );
      expect(snapshot.extensions.some((row) => row.extname === 'timescaledb')).toBe(mode.timescale);
    });

    it('a second migrate applies nothing and changes nothing', async () => {
      const before = await schemaSnapshot(db);
      const again = await migrate(db);
      expect(again).toEqual({ capabilities: firstReport.capabilities, applied: [] });
      expect(await schemaSnapshot(db)).toEqual(before);
    });

    it('make readings a hypertable with continuous-aggregate rollups where TimescaleDB is installed, and range-partitioned tables behind the rollup views elsewhere', async () => {
      const catalogue = await db.query<{ present: boolean }>(`SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL AS present`);
      const timescaleRows = async (sql: string) => (catalogue.rows[0]?.present ? (await db.query<{ name: string }>(sql)).rows.map((row) => row.name) : []);
      expect(await timescaleRows(`SELECT hypertable_name AS name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public'`))
        .toEqual(mode.timescale ? ['readings'] : []);
      expect(await timescaleRows(`SELECT view_name AS name FROM timescaledb_information.continuous_aggregates ORDER BY view_name`))
        .toEqual(mode.timescale ? ['rollup_1h', 'rollup_1m'] : []);
      const partitioned = await db.query<{ name: string; key: string }>(
        `SELECT n.nspname || '.' || c.relname AS name, pg_get_partkeydef(c.oid) AS key
         FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1`,
      );
      expect(partitioned.rows).toEqual(
        mode.timescale ? [] : [
          { name: 'public.readings', key: 'RANGE ("time")' },
          { name: 'storage_internal.rollup_1h', key: 'RANGE (bucket)' },
          { name: 'storage_internal.rollup_1m', key: 'RANGE (bucket)' },
        ],
      );
      expect(await tableExists(db, 'readings')).toBe(true);
    });

    it('started twice at once on an empty database, both succeed and apply each migration once', async () => {
      const fresh = await mode.createDatabase();
      await withOwnDatabase(fresh, async () => {
        // Two connections on a server (two processes); embedded PGlite has one, shared by both starts.
        const first = await fresh.open();
        const second = mode.server ? await fresh.open() : first;
        const reports = await Promise.all([migrate(first), migrate(second)]);
        expect(reports.flatMap((report) => report.applied).sort((a, b) => a - b)).toEqual(VERSIONS);
        const counts = await first.query<{ version: number; times: number }>(
          'SELECT version, count(*)::integer AS times FROM schema_migrations GROUP BY version ORDER BY version',
        );
        expect(counts.rows).toEqual(VERSIONS.map((version) => ({ version, times: 1 })));
        expect((await schemaSnapshot(second)).tables).toEqual(TABLES);
      });
    });

    it.each([
      { from: 6, what: 'the series registry (006)' },
      { from: 8, what: 'the newest reading kept per series (008)' },
    ])('an upgrade from before migration $from keeps the latest values of the readings written before it', async ({ from }) => {
      const fresh = await mode.createDatabase();
      await withOwnDatabase(fresh, async () => {
        const upgraded = await fresh.open();
        await migrate(upgraded, MIGRATIONS.filter((migration) => migration.version < from));
        const dictionary = await loadMetricDictionary(upgraded, ['pm2_5', 'no2', 'noise_laeq']);
        const [pm, no2] = [dictionary.numOf('pm2_5')!, dictionary.numOf('no2')!];
        const at = (minute: number) => new Date(Date.parse('2026-03-01T00:00:00Z') + minute * 60_000);
        // Written by the writer of the version before (insert_readings alone): no series registered (5), or no newest reading kept (7).
        await writeReadingBatch(upgraded, readingBatch([
          { time: at(0), deviceNum: 7, metricNum: pm, value: 10, qualityCode: 0, sourceQuality: undefined },
          { time: at(90), deviceNum: 7, metricNum: pm, value: 12, qualityCode: 0, sourceQuality: undefined },
          { time: at(5), deviceNum: 7, metricNum: no2, value: 40, qualityCode: 0, sourceQuality: undefined },
        ]));
        expect((await migrate(upgraded)).applied).toEqual(VERSIONS.filter((version) => version >= from));
        // After the upgrade, the writer registers a new series itself.
        await insertReadings(upgraded, [{ time: at(100), deviceNum: 8, metricNum: no2, value: 41, qualityCode: 0, sourceQuality: undefined }]);
        expect((await queryLatest(upgraded, 7)).map((row) => [row.metricKey, row.value])).toEqual([['no2', 40], ['pm2_5', 12]]);
        expect((await queryLatest(upgraded, 8)).map((row) => [row.metricKey, row.value])).toEqual([['no2', 41]]);
      });
    });

    it('that fail leave no trace of the migrations before them in the same run', async () => {
      const fresh = await mode.createDatabase();
      await withOwnDatabase(fresh, async () => {
        const freshDb = await fresh.open();
        const createsTable: Migration = {
          version: 1,
          name: 'creates a table',
          up: async (tx) => void (await tx.query('CREATE TABLE contract_first (id integer PRIMARY KEY)')),
        };
        const fails: Migration = { version: 2, name: 'fails', up: async (tx) => void (await tx.query('SELECT 1 / 0')) };
        await expect(migrate(freshDb, [createsTable, fails])).rejects.toThrow(/division by zero/);
        expect(await tableExists(freshDb, 'contract_first')).toBe(false);
        expect(await tableExists(freshDb, 'schema_migrations')).toBe(false);

        // Fixed, the same list applies from the start: nothing was recorded as done.
        const works: Migration = { ...fails, up: async (tx) => void (await tx.query('SELECT 1')) };
        expect((await migrate(freshDb, [createsTable, works])).applied).toEqual([1, 2]);
        expect(await tableExists(freshDb, 'contract_first')).toBe(true);
      });
    });
  });

  describe('metric dictionary', () => {
    const ownKeys = (count: number) => {
      const prefix = `m_${randomUUID().slice(0, 8)}`;
      return Array.from({ length: count }, (_, index) => `${prefix}_${index}`);
    };

    it('gives each key one number, the same on every load, also when loads race', async () => {
      const keys = ownKeys(60);
      const [first, second] = await Promise.all([loadMetricDictionary(db, keys), loadMetricDictionary(db, keys)]);
      const third = await loadMetricDictionary(db, keys);
      const stored = await db.query<{ key: string; num: number }>('SELECT key, num FROM metrics WHERE key = ANY($1::text[])', [keys]);
      expect(stored.rows).toHaveLength(keys.length);
      expect(new Set(stored.rows.map((row) => row.num)).size).toBe(keys.length);
      for (const { key, num } of stored.rows) {
        expect(typeof num).toBe('number');
        for (const dictionary of [first, second, third]) {
          expect(dictionary.numOf(key)).toBe(num);
          expect(dictionary.keyOf(num)).toBe(key);
        }
      }
    });

    it('answers undefined for keys and numbers it does not know', async () => {
      const dictionary = await loadMetricDictionary(db, ownKeys(2));
      const max = await db.query<{ max: number }>('SELECT max(num)::integer AS max FROM metrics');
      expect(dictionary.numOf(`absent_${randomUUID()}`)).toBeUndefined();
      expect(dictionary.keyOf(max.rows[0]!.max + 1)).toBeUndefined();
      expect(dictionary.keyOf(-1)).toBeUndefined();
    });

    it('does not use up numbers when reloading known keys (metric numbers are smallint: 32 767 in all)', async () => {
      // Every process start loads the whole catalogue; a start must not consume numbers,
      // or the identity runs out after a few thousand restarts and no process can start.
      const catalogue = ownKeys(40);
      await loadMetricDictionary(db, catalogue);
      const last = await db.query<{ max: number }>('SELECT max(num)::integer AS max FROM metrics WHERE key = ANY($1::text[])', [catalogue]);
      for (let start = 0; start < 5; start += 1) await loadMetricDictionary(db, catalogue);
      const added = `${catalogue[0]}_added`;
      const dictionary = await loadMetricDictionary(db, [...catalogue, added]);
      expect(dictionary.numOf(added)).toBe(last.rows[0]!.max + 1);
    });
  });
});
