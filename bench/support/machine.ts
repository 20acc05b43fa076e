import { cpus, loadavg, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import type { Queryable } from '../../storage/database.js';
import { describeMachine } from '../storage-dataset.js';

/** The machine and the versions a run's figures were produced on. */
export interface MachineDescription {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  /** The same as one text block, as the storage benchmarks print it. */
  text: string;
}

async function redisVersion(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}

export async function describeBenchMachine(db: Queryable, redisUrl: string): Promise<MachineDescription> {
  const cpu = cpus();
  const version = await db.query<{ version: string }>('SELECT version()');
  const redis = await redisVersion(redisUrl);
  const text = `${await describeMachine(db)}\nredis ${redis}`;
  return {
    cpuModel: cpu[0]?.model ?? 'unknown CPU',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: version.rows[0]?.version ?? 'unknown',
    redis,
    text,
  };
}

/** `1.23 0.98 0.75`: printed at the start and end of every scenario so a noisy figure can be recognised. */
export function loadAverage(): string {
  return loadavg().map((value) => value.toFixed(2)).join(' ');
}
