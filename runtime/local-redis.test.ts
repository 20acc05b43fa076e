import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRedisServerBinary, startLocalRedis, type LocalRedis, type LocalRedisOptions } from './local-redis.js';

// Closed in reverse order after each test: servers first, then their folders.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'local-redis-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(options: LocalRedisOptions): Promise<LocalRedis> {
  const redis = await startLocalRedis(options);
  cleanups.push(() => redis.close());
  return redis;
}

async function withClient<T>(url: string, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

describe('startLocalRedis', () => {
  // The first call may apt-get install redis-server.
  it('finds (or installs) redis-server and serves PING on its URL', { timeout: 300_000 }, async () => {
    const binary = await ensureRedisServerBinary();
    expect(isAbsolute(binary)).toBe(true);
    expect(binary).toMatch(/redis-server$/);

    const redis = await start({ dataDir: await tempDir() });
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    await withClient(redis.url, async (client) => {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    });
  });

  it('honours an explicit appendFsync', async () => {
    const redis = await start({ dataDir: await tempDir(), appendFsync: 'always' });
    await withClient(redis.url, async (client) => {
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    });
  });

  it('keeps keys across close and a new start on the same dataDir', async () => {
    const dataDir = await tempDir();
    const first = await start({ dataDir });
    await withClient(first.url, (client) => client.set('reading:1', '21.5'));
    await first.close();

    const second = await start({ dataDir });
    await withClient(second.url, async (client) => {
      expect(await client.get('reading:1')).toBe('21.5');
    });
  });

  it('stops a redis-server a crashed run left on the same dataDir, by its pidfile', async () => {
    const dataDir = await tempDir();
    // Never closed before the second start: stands in for a crashed process.
    const leftover = await start({ dataDir });
    await withClient(leftover.url, (client) => client.set('survives', 'yes'));
    expect(isAlive(leftover.pid)).toBe(true);

    const fresh = await start({ dataDir });
    expect(fresh.pid).not.toBe(leftover.pid);
    expect(isAlive(leftover.pid)).toBe(false);
    await withClient(fresh.url, async (client) => {
      expect(await client.ping()).toBe('PONG');
      // SIGTERM let the leftover fsync its AOF before exiting.
      expect(await client.get('survives')).toBe('yes');
    });
    await expect(leftover.close()).resolves.toBeUndefined();
  });

  it('close() stops the server and may be called any number of times', async () => {
    const redis = await start({ dataDir: await tempDir() });
    await Promise.all([redis.close(), redis.close()]);
    await redis.close();
    expect(isAlive(redis.pid)).toBe(false);
    await expect(connectRefused(redis.port)).resolves.toBe(true);
  });

  it("fails on a taken port with redis-server's own explanation", async () => {
    // Resets our readiness probes, as a port held by a non-Redis program would.
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;

    await expect(startLocalRedis({ dataDir: await tempDir(), port })).rejects.toThrow(
      new RegExp(`port ${port}[\\s\\S]*Address already in use`),
    );
  });
});
