import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export class EmbeddedDatabaseBusyError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `the embedded database in ${dataDir} is in use by process ${pid}; ` +
        'run all roles in one process, or give every process the same DATABASE_URL',
    );
    this.name = 'EmbeddedDatabaseBusyError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is a single-process database: a second process opening the same folder (say,
 * roles started as separate processes without DATABASE_URL) would corrupt it. A lock
 * file holding the owner's PID refuses the second opener; a lock left by a process
 * that died is taken over.
 */
export async function lockEmbeddedDatabase(dataDir: string): Promise<{ release(): Promise<void> }> {
  // Beside the folder, not in it: PGlite's initdb refuses a non-empty data directory.
  const file = `${path.resolve(dataDir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) throw new EmbeddedDatabaseBusyError(dataDir, owner);
      if (owner === process.pid) throw new EmbeddedDatabaseBusyError(dataDir, owner);
      await rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`could not lock the embedded database in ${dataDir}`);
}
