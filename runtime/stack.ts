import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadCatalogueConfiguration } from '../config/config-files.js';
import { storageSettingsOf, type Config } from '../config/config-schema.js';
import { createMqttGateway, type MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { OpcuaGateway } from '../gateways/opcua/opcua-gateway.js';
import { createEnvelopeBatcher } from '../queue/envelope-batcher.js';
import { createIngestQueue, type IngestQueue } from '../queue/ingest-queue.js';
import { createRoleGuard } from '../services/api/authenticate.js';
import { createApi, type Api } from '../services/api/create-api.js';
import { createIngestWorker, type IngestWorker } from '../services/ingest/ingest-worker.js';
import type { Database } from '../storage/database.js';
import { loadMetricDictionary } from '../storage/metric-dictionary.js';
import { migrate, type MigrationReport } from '../storage/migrate.js';
import { describeStorageMode, storageModeOf } from '../storage/migration.js';
import { openDatabase } from '../storage/open-database.js';
import { createStorageMaintenance, type StorageMaintenance } from '../storage/storage-maintenance.js';
import { ensureAdminKey, type AdminKeySource } from './admin-key.js';
import { startLocalRedis } from './local-redis.js';
import { observeStack } from './observe-stack.js';
import { loadOpcuaMapping, opcuaReadiness, startOpcuaGateway } from './opcua-role.js';
import { closeInOrder, type ShutdownStep } from './shutdown.js';

export interface Stack {
  readonly config: Readonly<Config>;
  readonly db: Database;
  readonly storage: MigrationReport;
  readonly redis: { url: string; local: boolean };
  readonly queue: IngestQueue;
  readonly gateway: MqttGateway | undefined;
  /** The OPC UA gateway: the opcua role with OPCUA_CONFIG_FILE set. */
  readonly opcua: OpcuaGateway | undefined;
  readonly worker: IngestWorker | undefined;
  /** Rollup refresh, compression, retention, partitions: runs in the worker role. */
  readonly maintenance: StorageMaintenance | undefined;
  readonly api: Api | undefined;
  readonly adminKey: AdminKeySource | undefined;
  /** Stops intake, lets in-flight batches commit, then closes storage and Redis. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the roles `config.roles` names in this process: the same code runs the whole
 * stack in one process or one role per process (docker-compose).
 */
export async function startStack(config: Readonly<Config>, logger: Logger): Promise<Stack> {
  const steps: ShutdownStep[] = [];
  const closeStarted = () => closeInOrder([...steps].reverse());
  try {
    // The catalogue and vendor profiles files are checked before anything starts.
    const { catalogue, profiles } = await loadCatalogueConfiguration(config);
    const opcuaMapping = await loadOpcuaMapping(config, catalogue);
    await mkdir(config.dataDir, { recursive: true });
    let redisUrl = config.redisUrl;
    if (redisUrl === undefined) {
      const redis = await startLocalRedis({ dataDir: path.resolve(config.dataDir, 'redis') });
      steps.push({ name: 'local redis', close: () => redis.close() });
      redisUrl = redis.url;
    }

    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    steps.push({ name: 'database', close: () => db.close() });
    const storage = await migrate(db);
    const storageMode = storageModeOf(db.kind, storage.capabilities);
    logger.info({ component: 'storage', mode: storageMode, migrationsApplied: storage.applied }, `storage: ${describeStorageMode(storageMode, storage.capabilities)}`);
    const dictionary = await loadMetricDictionary(db, [...catalogue.metrics.keys()]);

    const queue = createIngestQueue({ redisUrl, prefix: config.queuePrefix });
    steps.push({ name: 'queue', close: () => queue.close() });

    let worker: IngestWorker | undefined;
    if (config.roles.includes('worker')) {
      worker = createIngestWorker(
        { redisUrl, prefix: config.queuePrefix, concurrency: config.workerConcurrency },
        { db, dictionary, catalogue, profiles, maxFutureSkewMs: config.maxFutureSkewMs },
      );
      steps.push({ name: 'ingest worker', close: () => worker!.close() });
    }
    let maintenance: StorageMaintenance | undefined;
    if (config.roles.includes('worker')) {
      // With the writers: they need the partitions, and PGlite runs every role here.
      maintenance = await createStorageMaintenance(storageSettingsOf(config), { db, capabilities: storage.capabilities });
      steps.push({ name: 'storage maintenance', close: () => maintenance!.close() });
    }

    const opcua = opcuaMapping === undefined ? undefined : await startOpcuaGateway(config, opcuaMapping, { db, queue });
    if (opcua !== undefined) steps.push({ name: 'opcua gateway', close: () => opcua.close() });

    let gateway: MqttGateway | undefined;
    if (config.roles.includes('broker')) {
      const batcher = createEnvelopeBatcher({
        maxEnvelopes: config.batchMaxEnvelopes,
        maxWaitMs: config.batchMaxWaitMs,
        maxPayloadChars: 1024 * 1024,
        send: (envelopes) => queue.add(envelopes),
      });
      gateway = await createMqttGateway(
        {
          host: config.listenHost,
          port: config.mqttPort,
          wsPort: config.mqttWsPort === 0 ? undefined : config.mqttWsPort,
          maxPacketBytes: config.mqttMaxPacketBytes,
        },
        { db, batcher },
      );
      steps.push({ name: 'mqtt gateway', close: () => gateway!.close() });
    }

    let api: Api | undefined;
    let adminKey: AdminKeySource | undefined;
    if (config.roles.includes('api')) {
      adminKey = await ensureAdminKey(db, config.dataDir, config.apiAdminKey);
      api = await createApi(
        { host: config.listenHost, port: config.httpPort },
        {
          db,
          dictionary,
          catalogue: catalogue.metrics,
          profiles,
          requireRole: createRoleGuard({ db, bootstrapAdminKey: config.apiAdminKey }),
          maxReadings: config.apiMaxRangeReadings,
          mqtt: { port: gateway?.port ?? config.mqttPort, wsPort: gateway?.wsPort ?? (config.mqttWsPort || undefined) },
          readiness: [
            { name: 'database', check: async () => { await db.query('SELECT 1'); return { kind: db.kind, timescale: storage.capabilities.timescale, mode: storageMode }; } },
            { name: 'redis', check: async () => { await queue.ping(); return { queue: await queue.counts() }; } },
            ...opcuaReadiness(opcua),
          ],
        },
        logger.child({ component: 'api' }),
      );
      steps.push({ name: 'api', close: () => api!.close() });
    }

    observeStack({ gateway, worker, maintenance, opcua }, logger);
    let closing: Promise<void> | undefined;
    return {
      config, db, storage, queue, gateway, opcua, worker, maintenance, api, adminKey,
      redis: { url: redisUrl, local: config.redisUrl === undefined },
      // Pipeline order (STYLE.md, Lifecycle): intake (broker, HTTP) first, then the
      // worker finishes its active jobs, then the queue, the database and Redis go.
      close: () => (closing ??= closeStarted()),
    };
  } catch (error) {
    await closeStarted().catch(() => {});
    throw error;
  }
}
