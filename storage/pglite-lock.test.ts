import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from './pglite-database.js';
import { EmbeddedDatabaseBusyError, lockEmbeddedDatabase } from './pglite-lock.js';

describe('embedded database lock', () => {
  const folders: string[] = [];
  const folder = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'urbansense-lock-'));
    folders.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of folders.splice(0)) {
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}.lock`, { force: true });
    }
  });

  it('refuses a second opener of the same folder with a message saying what to do, and frees it on close', async () => {
    const dir = await folder();
    const first = await createPgliteDatabase({ dataDir: dir });
    await expect(createPgliteDatabase({ dataDir: dir })).rejects.toThrow(
      `the embedded database in ${dir} is in use by process ${process.pid}; run all roles in one process, or give every process the same DATABASE_URL`,
    );
    await first.close();
    const again = await createPgliteDatabase({ dataDir: dir });
    expect((await again.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await again.close();
  });

  it('refuses while another live process holds the lock', async () => {
    const dir = await folder();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeFile(`${dir}.lock`, `${holder.pid}\n`);
      await expect(lockEmbeddedDatabase(dir)).rejects.toBeInstanceOf(EmbeddedDatabaseBusyError);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = await folder();
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(`${dir}.lock`, `${gone.pid}\n`);
    const lock = await lockEmbeddedDatabase(dir);
    expect(await readFile(`${dir}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });
});
