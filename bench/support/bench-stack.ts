import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findFreePort } from '../../runtime/free-port.js';
import { createPostgresDatabase, type PostgresDatabase } from '../../runtime/postgres-database.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../services/auth/device-secrets.js';
import type { Database } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import type { WatchedProcess } from './process-cpu.js';
import { startRole, type NodeProcess } from './role-process.js';
import type { BenchContext } from './scenario.js';

/** How the stack of one scenario is laid out: the production processes, one role each. */
export interface BenchStackOptions {
  /** Worker processes (each runs the worker role with `workerConcurrency`). */
  workers: number;
  workerConcurrency: number;
  /** Messages per queue job (INGEST_BATCH_MAX_MESSAGES). */
  batchMaxMessages: number;
  /** INGEST_BATCH_MAX_WAIT_MS. */
  batchMaxWaitMs: number;
  /** Start an API process too (the latency scenario reads through it). */
  api: boolean;
  /** Devices registered with MQTT credentials, `bench-00001` …, all with one secret. */
  devices: number;
}

export interface BenchStack {
  /** The scenario's own database, for counting what was stored. */
  readonly db: Database;
  readonly mqttPort: number;
  readonly apiUrl: string | undefined;
  readonly adminKey: string;
  readonly deviceIds: readonly string[];
  readonly secret: string;
  readonly processes: readonly NodeProcess[];
  /** Every process whose CPU counts: ours, Redis and PostgreSQL. */
  readonly watched: readonly WatchedProcess[];
  /** Exact count of stored readings. */
  countReadings(): Promise<number>;
  /** Stops the processes in pipeline order (broker, API, workers), then drops the database. */
  close(): Promise<void>;
}

export const DEVICE_DOMAIN = 'environment';

export function benchDeviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `bench-${String(index + 1).padStart(5, '0')}`);
}

/** Devices inserted directly with one shared secret: registering through the API would scrypt each one. */
export async function registerDevices(db: Database, ids: readonly string[], secret: string): Promise<void> {
  const hash = await hashDeviceSecret(secret);
  await db.query(
    `INSERT INTO devices (id, domain, name, secret_hash) SELECT id, $2, 'bench ' || id, $3 FROM unnest($1::text[]) AS id`,
    [[...ids], DEVICE_DOMAIN, hash],
  );
}

/** PostgreSQL's postmaster and Redis by pid, when they run on this machine, for CPU accounting. */
export async function serverProcesses(db: Database, redisUrl: string): Promise<WatchedProcess[]> {
  const watched: WatchedProcess[] = [];
  const directory = await db.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
  const pidText = await readFile(path.join(directory.rows[0]?.dir ?? '', 'postmaster.pid'), 'utf8').catch(() => undefined);
  const postgresPid = Number.parseInt(pidText ?? '', 10);
  if (Number.isInteger(postgresPid)) watched.push({ name: 'postgres', pid: postgresPid, withChildren: true });
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    if (Number.isInteger(redisPid)) watched.push({ name: 'redis', pid: redisPid });
  } finally {
    redis.disconnect();
  }
  return watched;
}

export async function startBenchStack(context: BenchContext, name: string, options: BenchStackOptions): Promise<BenchStack> {
  const database: PostgresDatabase = await createPostgresDatabase(context.postgresUrl, `bench_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`);
  const db = createPgDatabase({ connectionString: database.url, maxConnections: 2 });
  const processes: NodeProcess[] = [];
  const stopAll = async () => {
    // Intake first (broker, API), so nothing acknowledged is left behind; then the workers finish their jobs.
    const intake = processes.filter((process) => !process.name.startsWith('worker'));
    const workers = processes.filter((process) => process.name.startsWith('worker'));
    const results = [...(await Promise.allSettled(intake.map((process) => process.stop()))), ...(await Promise.allSettled(workers.map((process) => process.stop())))];
    await db.close();
    await database.drop();
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (failures.length > 0) throw new AggregateError(failures, `stopping the ${name} stack: ${failures.map((failure) => failure.message).join('; ')}`);
  };
  try {
    const adminKey = `bench-admin-${randomBytes(16).toString('hex')}`;
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL: context.redisUrl,
      QUEUE_PREFIX: `bench-${name}-${randomBytes(3).toString('hex')}`,
      DATA_DIR: path.join(context.workDir, name),
      LISTEN_HOST: '127.0.0.1',
      MQTT_WS_PORT: '0',
      API_ADMIN_KEY: adminKey,
      API_RATE_LIMIT_PER_MINUTE: '0',
      INGEST_BATCH_MAX_MESSAGES: String(options.batchMaxMessages),
      INGEST_BATCH_MAX_WAIT_MS: String(options.batchMaxWaitMs),
      WORKER_CONCURRENCY: String(options.workerConcurrency),
    };
    const profile = (role: string) => (context.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(context.cpuProfileDir, `${name}-${role}`)}`]);
    // Migrated and populated here, so the processes can all start at once.
    await migrate(db);
    const deviceIds = benchDeviceIds(options.devices);
    const secret = generateDeviceSecret();
    await registerDevices(db, deviceIds, secret);
    const httpPort = options.api ? await findFreePort() : undefined;
    const mqttPort = await findFreePort();
    const starting = [
      ...Array.from({ length: options.workers }, (_, index) => startRole(`worker-${index + 1}`, ['worker'], env, profile('worker'))),
      ...(httpPort === undefined ? [] : [startRole('api', ['api'], { ...env, HTTP_PORT: String(httpPort) }, profile('api'))]),
      startRole('broker', ['broker'], { ...env, MQTT_PORT: String(mqttPort) }, profile('broker')),
    ];
    const started = await Promise.allSettled(starting);
    for (const result of started) if (result.status === 'fulfilled') processes.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const apiUrl = httpPort === undefined ? undefined : `http://127.0.0.1:${httpPort}`;
    const watched: WatchedProcess[] = [...processes.map((process) => ({ name: process.name, pid: process.pid })), ...(await serverProcesses(db, context.redisUrl))];
    let closing: Promise<void> | undefined;
    return {
      db, mqttPort, apiUrl, adminKey, deviceIds, secret, processes, watched,
      async countReadings() {
        const result = await db.query<{ n: string }>('SELECT count(*) AS n FROM readings');
        return Number(result.rows[0]?.n ?? 0);
      },
      close: () => (closing ??= stopAll()),
    };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}
