import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../../runtime/free-port.js';
import { startLocalPostgres } from '../../../runtime/local-postgres.js';
import { startLocalRedis } from '../../../runtime/local-redis.js';
import { createPostgresDatabase } from '../../../runtime/postgres-database.js';

/**
 * A server a fault test may stop and start again: same port, same data folder, so the
 * stack's connection URLs stay valid across the fault. Never the shared servers of the
 * test run (test/support/global-setup.ts): restarting those would break other files.
 */
export interface RestartableServer {
  /** For Redis the server URL; for PostgreSQL the URL of the stack's database on it. */
  readonly url: string;
  readonly port: number;
  /** Stops the server: `graceful` lets it shut down cleanly, `crash` SIGKILLs it. */
  stop(how: 'graceful' | 'crash'): Promise<void>;
  /** Starts it again over the same data folder and port. */
  start(): Promise<void>;
  /** Stops it (if running) and removes its data folder. Idempotent. */
  remove(): Promise<void>;
}

interface Launched {
  url: string;
  /** Undefined when the launcher does not expose it; `crash` then needs it. */
  pid: number | undefined;
  close(): Promise<void>;
}

async function restartable(name: string, launch: (dataDir: string, port: number) => Promise<Launched>): Promise<RestartableServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `urbansense-fault-${name}-`));
  // PostgreSQL runs as its own user, which must reach the cluster folder inside.
  await chmod(dataDir, 0o755);
  const port = await findFreePort();
  let running: Launched | undefined;
  try {
    running = await launch(dataDir, port);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = running.url;
  const stop = async (how: 'graceful' | 'crash') => {
    const server = running;
    running = undefined;
    if (server === undefined) return;
    if (how === 'crash') {
      if (server.pid === undefined) throw new Error(`${name}: no PID to SIGKILL`);
      process.kill(server.pid, 'SIGKILL');
    }
    // After a SIGKILL this only waits for the exit: close() signals live processes only.
    await server.close();
  };
  let removing: Promise<void> | undefined;
  return {
    url,
    port,
    stop,
    async start() {
      if (running !== undefined) throw new Error(`${name} is already running`);
      running = await launch(dataDir, port);
    },
    remove: () =>
      (removing ??= (async () => {
        await stop('graceful');
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

/**
 * A private redis-server with AOF on. `appendFsync: 'always'` makes every write durable
 * before Redis answers it, which a crash (SIGKILL) scenario needs.
 */
export function startFaultRedis(options: { appendFsync: 'always' | 'everysec' }): Promise<RestartableServer> {
  return restartable('redis', async (dataDir, port) => {
    const redis = await startLocalRedis({ dataDir, port, appendFsync: options.appendFsync });
    return { url: redis.url, pid: redis.pid, close: () => redis.close() };
  });
}

/** A private PostgreSQL server holding one database, `faults`, for the stack under test. */
export function startFaultPostgres(): Promise<RestartableServer> {
  let created = false;
  return restartable('postgres', async (dataDir, port) => {
    const postgres = await startLocalPostgres({ dataDir: path.join(dataDir, 'cluster'), port });
    if (!created) await createPostgresDatabase(postgres.url, 'faults');
    created = true;
    return { url: postgres.url.replace(/\/postgres$/, '/faults'), pid: undefined, close: () => postgres.close() };
  });
}
