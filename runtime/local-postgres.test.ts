import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from './local-postgres.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code,
  );
}

describe('startLocalPostgres', () => {
  // The first start may apt-get install PostgreSQL.
  it('answers SELECT version() and removes its temporary data dir on close', { timeout: 300_000 }, async () => {
    const postgres = await startLocalPostgres();
    try {
      expect(postgres.url).toBe(`postgres://postgres@127.0.0.1:${postgres.port}/postgres`);
      const [row] = await query<{ version: string; dir: string }>(
        postgres.url,
        `SELECT version(), current_setting('data_directory') AS dir`,
      );
      expect(row?.version).toMatch(/^PostgreSQL (1[4-9]|[2-9]\d)\./);
      expect((await stat(row!.dir)).isDirectory()).toBe(true);

      await postgres.close();
      await expect(errorCode(stat(row!.dir))).resolves.toBe('ENOENT');
      await expect(errorCode(query(postgres.url, 'SELECT 1'))).resolves.toBe('ECONNREFUSED');
    } finally {
      await postgres.close();
    }
  });

  it('runs crash-safe when asked to be durable, and fast without', async () => {
    const settings = `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS commit, current_setting('full_page_writes') AS pages`;
    const durable = await startLocalPostgres({ durable: true });
    try {
      expect(await query(durable.url, settings)).toEqual([{ fsync: 'on', commit: 'on', pages: 'on' }]);
    } finally {
      await durable.close();
    }
    const fast = await startLocalPostgres();
    try {
      expect(await query(fast.url, settings)).toEqual([{ fsync: 'off', commit: 'off', pages: 'off' }]);
    } finally {
      await fast.close();
    }
  });

  it('close() may be called any number of times, also concurrently', async () => {
    const postgres = await startLocalPostgres();
    await Promise.all([postgres.close(), postgres.close()]);
    await expect(postgres.close()).resolves.toBeUndefined();
  });

  it('keeps a given dataDir and its data across close and start', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'local-postgres-test-'));
    // mkdtemp makes it 0700; the server's own user must be able to pass through.
    await chmod(parent, 0o755);
    const dataDir = join(parent, 'cluster');
    try {
      const first = await startLocalPostgres({ dataDir });
      try {
        await query(first.url, `CREATE TABLE kept AS SELECT 42 AS answer`);
      } finally {
        await first.close();
      }
      expect((await stat(join(dataDir, 'PG_VERSION'))).isFile()).toBe(true);

      const second = await startLocalPostgres({ dataDir });
      try {
        expect(await query(second.url, `SELECT answer FROM kept`)).toEqual([{ answer: 42 }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('stops a postgres a crashed run left on the same dataDir, by its postmaster.pid', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'local-postgres-test-'));
    await chmod(parent, 0o755);
    const dataDir = join(parent, 'cluster');
    // Never closed before the second start: stands in for a crashed process.
    const leftover = await startLocalPostgres({ dataDir });
    try {
      const leftoverPid = Number.parseInt(await readFile(join(dataDir, 'postmaster.pid'), 'utf8'), 10);
      const fresh = await startLocalPostgres({ dataDir });
      try {
        expect(() => process.kill(leftoverPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
        expect(await query(fresh.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        await fresh.close();
      }
    } finally {
      await leftover.close();
      await rm(parent, { recursive: true, force: true });
    }
  });

  describe('createDatabase', () => {
    let postgres: LocalPostgres;
    beforeAll(async () => {
      postgres = await startLocalPostgres();
    }, 60_000);
    afterAll(() => postgres?.close());

    it('creates a database of its own that drop() removes, even with sessions open', async () => {
      const db = await postgres.createDatabase();
      expect(db.name).toMatch(/^test_[0-9a-f]{16}$/);
      expect(db.url).toBe(`postgres://postgres@127.0.0.1:${postgres.port}/${db.name}`);

      const session = new pg.Client({ connectionString: db.url });
      session.on('error', () => undefined);
      await session.connect();
      await session.query('CREATE TABLE readings (value float8)');
      await session.query('INSERT INTO readings VALUES (21.5)');
      expect((await session.query('SELECT current_database() AS name, sum(value) AS total FROM readings')).rows)
        .toEqual([{ name: db.name, total: 21.5 }]);

      await db.drop();
      await db.drop();
      await session.end().catch(() => undefined);
      // 3D000: invalid_catalog_name, what a client sees for a missing database.
      await expect(errorCode(query(db.url, 'SELECT 1'))).resolves.toBe('3D000');
    });

    it('uses a given name and refuses names it would have to quote', async () => {
      const db = await postgres.createDatabase('ingest_contract');
      expect(await query(db.url, 'SELECT current_database() AS name')).toEqual([{ name: 'ingest_contract' }]);
      await db.drop();

      for (const bad of ['Upper', '1st', 'semi;colon', 'a"b', '', 'x'.repeat(64)]) {
        await expect(postgres.createDatabase(bad)).rejects.toThrow(/is not allowed/);
      }
    });

    it('creates distinct databases when called concurrently', async () => {
      const dbs = await Promise.all(Array.from({ length: 8 }, () => postgres.createDatabase()));
      expect(new Set(dbs.map((db) => db.name)).size).toBe(8);
      await Promise.all(dbs.map((db) => db.drop()));
      const left = await query<{ n: number }>(postgres.url, `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'test\\_%'`);
      expect(left).toEqual([{ n: 0 }]);
    });
  });
});
