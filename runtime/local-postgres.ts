import { chmod, chown, mkdir, mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runCommand, runCommandOrThrow, spawnServer } from './child-process.js';
import { retryOnPortConflict } from './free-port.js';
import { stopLeftoverProcess } from './pid-file.js';
import { createPostgresDatabase, withPostgresClient, type PostgresDatabase } from './postgres-database.js';
import { ensureSystemBinary, findExecutable } from './system-binary.js';
import { waitForServer } from './wait-for-server.js';

/** Options of {@link startLocalPostgres}. */
export interface LocalPostgresOptions {
  /** Cluster folder, initialised when empty and kept on close. @defaultValue a fresh folder under os.tmpdir(), removed on close */
  dataDir?: string;
  /** TCP port on 127.0.0.1. @defaultValue a free port chosen by the kernel */
  port?: number;
  /** How long to wait for the first answered query. @defaultValue 30000 */
  startTimeoutMs?: number;
  /**
   * Keep PostgreSQL's crash safety (fsync, synchronous commit, full-page writes), as a
   * production server runs: benchmarks measure the durable path. @defaultValue false
   */
  durable?: boolean;
}

/** A throw-away PostgreSQL server owned by this process; durability is off unless asked for. */
export interface LocalPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication) */
  url: string;
  port: number;
  /** Creates a database; see {@link createPostgresDatabase}. */
  createDatabase(name?: string): Promise<PostgresDatabase>;
  /** Fast shutdown (SIGINT), SIGKILL after 15 s, then removes a temporary data dir. Idempotent. */
  close(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;
const QUERY_POLL_MS = 100;
const MIN_VERSION = 14;
// PostgreSQL refuses to run as root; used when Debian's `postgres` user is absent.
const FALLBACK_USER = 'urbansense-pg';

/** Folder holding initdb and postgres: Debian's newest /usr/lib/postgresql/N, else initdb's on PATH. */
async function findPostgresBinDir(): Promise<string | undefined> {
  const versions = (await readdir('/usr/lib/postgresql').catch(() => []))
    .map(Number)
    .filter((version) => Number.isInteger(version) && version >= MIN_VERSION)
    .sort((a, b) => b - a);
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if ((await findExecutable('initdb', [], dir)) && (await findExecutable('postgres', [], dir))) return dir;
  }
  const initdb = await findExecutable('initdb');
  // /usr/local/bin/initdb is often a symlink; postgres lives beside its target.
  const dir = initdb === undefined ? undefined : dirname(await realpath(initdb));
  return dir !== undefined && (await findExecutable('postgres', [], dir)) ? dir : undefined;
}

function ensurePostgresBinDir(): Promise<string> {
  return ensureSystemBinary({
    find: findPostgresBinDir,
    aptPackages: ['postgresql'],
    notInstalledMessage: `PostgreSQL was not found: install PostgreSQL ≥ ${MIN_VERSION}: sudo apt-get install postgresql`,
  });
}

interface ServerUser { uid: number; gid: number }

async function idOf(name: string, flag: '-u' | '-g'): Promise<number> {
  return Number.parseInt(await runCommandOrThrow('id', [flag, name]), 10);
}

/** The unprivileged user to run as when we are root; undefined otherwise. */
async function serverUser(): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let name = 'postgres';
  if ((await runCommand('id', ['-u', name])).code !== 0) {
    name = FALLBACK_USER;
    if ((await runCommand('id', ['-u', name])).code !== 0) {
      // A parallel worker may create it first; id below tells whether it exists.
      await runCommand('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
    }
  }
  return { uid: await idOf(name, '-u'), gid: await idOf(name, '-g') };
}

/** Creates the data folder; returns the temporary parent to remove on close, if ours. */
async function prepareDataDir(requested: string | undefined, user: ServerUser | undefined) {
  let dataDir: string;
  let tempParent: string | undefined;
  if (requested === undefined) {
    tempParent = await mkdtemp(join(tmpdir(), 'urbansense-pg-'));
    // mkdtemp makes it 0700 for us; the server user must be able to traverse it.
    await chmod(tempParent, 0o755);
    dataDir = join(tempParent, 'data');
  } else {
    dataDir = resolve(requested);
  }
  try {
    // initdb and postgres insist on 0700 (or 0750) and on owning the folder.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (user !== undefined) await handOver(dataDir, user);
  } catch (error) {
    if (tempParent !== undefined) await rm(tempParent, { recursive: true, force: true });
    throw error;
  }
  return { dataDir, tempParent };
}

async function handOver(dataDir: string, user: ServerUser): Promise<void> {
  await chown(dataDir, user.uid, user.gid);
  const parent = dirname(dataDir);
  // Checked as that user, so the error names the fix instead of initdb's bare EACCES.
  const reach = await runCommand('test', ['-x', parent], { uid: user.uid, gid: user.gid, cwd: '/' });
  if (reach.code !== 0) {
    throw new Error(
      `PostgreSQL runs as uid ${user.uid}, which cannot reach ${parent}: ` +
        'give every folder on that path o+x (chmod o+x), or leave dataDir unset to use a temporary folder',
    );
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return stat(join(dataDir, 'PG_VERSION')).then(() => true, () => false);
}

function serverUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/**
 * Ready once a real query answers. Asking for the data directory proves the
 * answer came from our server, not from another one that won the port.
 */
async function probeReady(port: number, dataDir: string): Promise<string | undefined> {
  const answered = await withPostgresClient(serverUrl(port), async (client) => {
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    return rows[0]?.dir;
  }, 1_000);
  if (answered === dataDir || answered === (await realpath(dataDir))) return undefined;
  return `port ${port} is answered by the server of ${answered}`;
}

function postgresArgs(dataDir: string, port: number, durable: boolean): string[] {
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dataDir,
    // Throw-away clusters: speed over crash safety, unless measuring the durable path.
    fsync: durable ? 'on' : 'off',
    synchronous_commit: durable ? 'on' : 'off',
    full_page_writes: durable ? 'on' : 'off',
    max_connections: '200',
    shared_buffers: '128MB',
  };
  return ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/** Starts a private PostgreSQL on 127.0.0.1, initialising a cluster first when needed. */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const { startTimeoutMs = 30_000 } = options;
  const binDir = await ensurePostgresBinDir();
  const user = await serverUser();
  const { dataDir, tempParent } = await prepareDataDir(options.dataDir, user);
  const childOptions = { uid: user?.uid, gid: user?.gid, cwd: dirname(dataDir) };
  try {
    if (await isInitialised(dataDir)) {
      await stopLeftoverProcess({
        pidFile: join(dataDir, 'postmaster.pid'),
        commandMustContain: 'postgres',
        signal: 'SIGINT',
        stopTimeoutMs: STOP_TIMEOUT_MS,
      });
    } else {
      const initdbArgs = ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'];
      await runCommandOrThrow(join(binDir, 'initdb'), initdbArgs, childOptions);
    }
    const start = async (port: number): Promise<LocalPostgres> => {
      const server = await spawnServer(join(binDir, 'postgres'), postgresArgs(dataDir, port, options.durable === true), {
        ...childOptions,
        // Fast shutdown: SIGTERM would wait for every client to disconnect.
        exitSignal: 'SIGINT',
      });
      await waitForServer(server, {
        name: 'postgres',
        port,
        probe: () => probeReady(port, dataDir),
        pollMs: QUERY_POLL_MS,
        timeoutMs: startTimeoutMs,
      });
      server.unref();
      const url = serverUrl(port);
      let closing: Promise<void> | undefined;
      const close = async () => {
        try {
          await server.stop('SIGINT', STOP_TIMEOUT_MS);
        } finally {
          if (tempParent !== undefined) await rm(tempParent, { recursive: true, force: true });
        }
      };
      return {
        url,
        port,
        createDatabase: (name) => createPostgresDatabase(url, name),
        close: () => (closing ??= close()),
      };
    };
    return await retryOnPortConflict(options.port, start);
  } catch (error) {
    if (tempParent !== undefined) await rm(tempParent, { recursive: true, force: true });
    throw error;
  }
}
