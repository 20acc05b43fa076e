import { randomBytes, randomUUID } from 'node:crypto';
import { decodePayload } from '../../../contracts/envelope.js';
import { createIngestQueue } from '../../../queue/ingest-queue.js';
import { findFreePort } from '../../../runtime/free-port.js';
import { registerDevice, type RegisteredDevice } from '../../support/api-client.js';
import { readingKey } from './devices.js';
import { startFaultPostgres, startFaultRedis, type RestartableServer } from './fault-servers.js';
import { startStackProcess, type StackProcess } from './stack-process.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export interface FaultEnvironmentOptions {
  /** Redis AOF fsync policy. @defaultValue 'always' */
  redisFsync?: 'always' | 'everysec';
  /** Put a {@link TcpProxy} between the stack and PostgreSQL, to black-hole it. @defaultValue false */
  postgresProxy?: boolean;
  /** Extra environment of every stack process (e.g. INGEST_BATCH_MAX_MESSAGES). */
  env?: Record<string, string>;
}

/**
 * Private Redis and PostgreSQL plus the stack's roles as separate processes (the
 * docker-compose shape): `broker,api` on fixed ports, so a restarted broker is found
 * where the devices left it, and `worker`. Everything is the test's own to break.
 */
export interface FaultEnvironment {
  readonly redis: RestartableServer;
  readonly postgres: RestartableServer;
  /** Present with `postgresProxy`; the stack reaches PostgreSQL only through it. */
  readonly proxy: TcpProxy | undefined;
  /** The stack's database, directly (not through the proxy): where the test checks. */
  readonly databaseUrl: string;
  readonly mqttUrl: string;
  readonly apiUrl: string;
  readonly adminKey: string;
  /** QUEUE_PREFIX of the stack's queues in `redis`. */
  readonly queuePrefix: string;
  /** Starts a `broker,api` process (again) on the environment's ports. */
  startBroker(): Promise<StackProcess>;
  /** Starts one process with every role but opcua (`npm start` as most people run it), on the environment's ports. */
  startAllInOne(): Promise<StackProcess>;
  /** Starts a `worker` process; several may run at once. */
  startWorker(extraEnv?: Record<string, string>): Promise<StackProcess>;
  /** The ingest queue's job counts: what is still to do, and what was parked as failed. */
  queueCounts(): Promise<Record<'waiting' | 'delayed' | 'active' | 'failed', number>>;
  /** Keys ({@link readingKey}) of the readings in jobs not yet processed: acknowledged, in Redis, not in the database yet. */
  queuedReadings(): Promise<Set<string>>;
  /** Registers `count` environment devices through the API and returns their credentials. */
  registerDevices(count: number): Promise<RegisteredDevice[]>;
  /** Stack processes that ended without the test stopping them, with the last of their output. */
  unexpectedExits(): string[];
  /** SIGKILLs the stack processes still running, then removes the servers. */
  close(): Promise<void>;
}

export async function startFaultEnvironment(options: FaultEnvironmentOptions = {}): Promise<FaultEnvironment> {
  const servers = await Promise.allSettled([startFaultRedis({ appendFsync: options.redisFsync ?? 'always' }), startFaultPostgres()]);
  const [redis, postgres] = servers.map((server) => (server.status === 'fulfilled' ? server.value : undefined));
  if (redis === undefined || postgres === undefined) {
    await Promise.allSettled([redis?.remove(), postgres?.remove()]);
    throw servers.find((server) => server.status === 'rejected')?.reason;
  }
  const proxy = options.postgresProxy === true ? await startTcpProxy(postgres.port) : undefined;
  const stackDatabaseUrl = proxy === undefined ? postgres.url : postgres.url.replace(`:${postgres.port}/`, `:${proxy.port}/`);
  const ports = { mqtt: await findFreePort(), http: await findFreePort() };
  const adminKey = `fault-admin-${randomBytes(16).toString('hex')}`;
  const processes = new Set<StackProcess>();
  const unexpectedExits: string[] = [];
  const env = {
    DATABASE_URL: stackDatabaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `fault-${randomUUID().slice(0, 8)}`,
    API_ADMIN_KEY: adminKey,
    // Crashed workers' jobs go back to the queue within seconds instead of half a
    // minute; not shorter, so a busy machine cannot delay a live worker's lock renewal
    // (every half of it) past expiry.
    WORKER_STALLED_AFTER_MS: '5000',
    ...options.env,
  };
  const start = async (roles: string, extra: Record<string, string>) => {
    const child = await startStackProcess({ roles, env: { ...env, ...extra } });
    processes.add(child);
    void child.exited.then((status) => {
      // A process the test killed was removed from the set before it exited.
      if (processes.delete(child)) unexpectedExits.push(`${roles} process ended (${JSON.stringify(status)}):\n${child.output().slice(-4000)}`);
    });
    return {
      ...child,
      kill: (signal: NodeJS.Signals) => {
        processes.delete(child);
        return child.kill(signal);
      },
    };
  };
  const apiUrl = `http://127.0.0.1:${ports.http}`;
  const withQueue = async <T>(work: (queue: ReturnType<typeof createIngestQueue>) => Promise<T>): Promise<T> => {
    const queue = createIngestQueue({ redisUrl: redis.url, prefix: env.QUEUE_PREFIX });
    try {
      return await work(queue);
    } finally {
      await queue.close();
    }
  };
  const listening = { MQTT_PORT: String(ports.mqtt), HTTP_PORT: String(ports.http) };
  return {
    redis,
    postgres,
    proxy,
    databaseUrl: postgres.url,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    apiUrl,
    adminKey,
    queuePrefix: env.QUEUE_PREFIX,
    startBroker: () => start('broker,api', listening),
    startAllInOne: () => start('broker,worker,api', listening),
    startWorker: (extraEnv = {}) => start('worker', extraEnv),
    queueCounts: () => withQueue((queue) => queue.counts()),
    queuedReadings: () =>
      withQueue(async ({ queue }) => {
        const keys = new Set<string>();
        for (const job of await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])) {
          for (const envelope of job.data.envelopes) {
            const { ts } = JSON.parse(decodePayload(envelope).toString('utf8')) as { ts: string };
            keys.add(readingKey(envelope.deviceId, ts));
          }
        }
        return keys;
      }),
    unexpectedExits: () => [...unexpectedExits],
    registerDevices: (count) =>
      Promise.all(Array.from({ length: count }, (_, i) => registerDevice(apiUrl, adminKey, { id: `fault-${i}-${randomUUID().slice(0, 6)}`, domain: 'environment' }))),
    async close() {
      const running = [...processes];
      processes.clear();
      await Promise.all(running.map((child) => child.kill('SIGKILL')));
      await proxy?.close();
      await Promise.allSettled([redis.remove(), postgres.remove()]);
    },
  };
}
