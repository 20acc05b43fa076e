import { mkdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { spawnServer } from './child-process.js';
import { retryOnPortConflict } from './free-port.js';
import { stopLeftoverProcess } from './pid-file.js';
import { ensureSystemBinary, findExecutable } from './system-binary.js';
import { waitForServer } from './wait-for-server.js';

/** Options of {@link startLocalRedis}. */
export interface LocalRedisOptions {
  /** Folder for the AOF, RDB and pidfile; created if missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1. @defaultValue a free port chosen by the kernel */
  port?: number;
  /**
   * AOF fsync policy: 'always' loses nothing on a power cut, 'everysec' up to
   * one second of writes. @defaultValue 'everysec'
   */
  appendFsync?: 'always' | 'everysec';
  /** How long to wait for the first `+PONG`. @defaultValue 10000 */
  startTimeoutMs?: number;
}

/** A redis-server child process owned by this process. */
export interface LocalRedis {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  pid: number;
  /** SIGTERM (Redis fsyncs the AOF and exits), SIGKILL after 10 s. Idempotent. */
  close(): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;
const PING_POLL_MS = 50;

/** Path of redis-server, installed with apt-get first when missing and running as root. */
export function ensureRedisServerBinary(): Promise<string> {
  return ensureSystemBinary({
    find: () => findExecutable('redis-server', ['/usr/bin', '/usr/sbin']),
    aptPackages: ['redis-server'],
    notInstalledMessage:
      'redis-server is not installed: run "sudo apt-get install redis-server", or set REDIS_URL to an existing Redis',
  });
}

/** Resolves to the first line 127.0.0.1:port answers to a RESP `PING`. */
function ping(port: number, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolvePing, rejectPing) => {
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port });
    const fail = (reason: string) => {
      socket.destroy();
      rejectPing(new Error(reason));
    };
    socket.setTimeout(timeoutMs, () => fail(`no reply to PING within ${timeoutMs} ms`));
    socket.once('error', (error) => fail(error.message));
    // A peer that hangs up without a reply clears the timeout with the socket.
    socket.once('close', () => fail('connection closed without a reply to PING'));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end === -1) return;
      socket.destroy();
      resolvePing(reply.slice(0, end));
    });
  });
}

function redisArgs(dataDir: string, port: number, appendFsync: string): string[] {
  return [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dataDir,
    '--appendonly', 'yes',
    '--appendfsync', appendFsync,
    '--pidfile', join(dataDir, 'redis.pid'),
    '--daemonize', 'no',
    '--save', '',
    '--protected-mode', 'yes',
    '--logfile', '',
    // BullMQ refuses to run on a Redis that may evict its keys.
    '--maxmemory-policy', 'noeviction',
  ];
}

/**
 * Ready once it answers `+PONG` (not `-LOADING` while it replays the AOF) and
 * its pidfile names our child: the pidfile is written right after the bind,
 * so a `+PONG` without it came from another server holding the port.
 */
async function probeReady(dataDir: string, port: number, pid: number): Promise<string | undefined> {
  const reply = await ping(port);
  if (reply !== '+PONG') return `PING answered ${reply}`;
  const pidFile = await readFile(join(dataDir, 'redis.pid'), 'utf8').catch(() => '');
  return Number.parseInt(pidFile, 10) === pid ? undefined : `port ${port} is answered by another server`;
}

/**
 * Starts a private redis-server on 127.0.0.1 with AOF persistence in
 * `dataDir`, first stopping one a crashed earlier run left on that folder.
 */
export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  const dataDir = resolve(options.dataDir);
  const { appendFsync = 'everysec', startTimeoutMs = 10_000 } = options;
  const binary = await ensureRedisServerBinary();
  await mkdir(dataDir, { recursive: true });
  await stopLeftoverProcess({
    pidFile: join(dataDir, 'redis.pid'),
    commandMustContain: 'redis-server',
    signal: 'SIGTERM',
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });

  const start = async (port: number): Promise<LocalRedis> => {
    const server = await spawnServer(binary, redisArgs(dataDir, port, appendFsync), {
      cwd: dataDir,
      exitSignal: 'SIGTERM',
    });
    await waitForServer(server, {
      name: 'redis-server',
      port,
      probe: () => probeReady(dataDir, port, server.pid),
      pollMs: PING_POLL_MS,
      timeoutMs: startTimeoutMs,
    });
    server.unref();
    let closing: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: server.pid,
      close: () => (closing ??= server.stop('SIGTERM', STOP_TIMEOUT_MS).then(() => undefined)),
    };
  };
  return retryOnPortConflict(options.port, start);
}
