import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadCatalogueConfiguration } from '../config/config-files.js';
import { storageSettingsOf, type Config } from '../config/config-schema.js';
import { createMqttGateway, type MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { OpcuaGateway } from '../gateways/opcua/opcua-gateway.js';
import { createEnvelopeBatcher } from '../queue/envelope-batcher.js';
import { createQueueBacklog } from '../queue/queue-backlog.js';
import { createBackpressureGate } from '../gateways/mqtt/backpressure-gate.js';
import { createIngestQueue, type IngestQueue } from '../queue/ingest-queue.js';
import { createRoleGuard } from '../services/api/authenticate.js';
import { createApi, type Api } from '../services/api/create-api.js';
import { createStackMetrics } from './stack-metrics.js';
import { createLiveFeed } from '../services/live/live-feed.js';
import { createLivePublisher } from '../services/live/live-publisher.js';
import { alertJson } from '../services/alerts/alert-json.js';
import { evaluateAlertRules } from '../services/alerts/evaluate-batch.js';
import { DEFAULT_RULES } from '../services/alerts/default-rules.js';
import { createAlertWebhooks, type AlertWebhooks } from '../services/alerts/alert-webhooks.js';
import type { AlertChanges } from '../services/alerts/evaluate-batch.js';
import { createOfflineMonitor, type OfflineMonitor } from '../services/alerts/offline-monitor.js';
import { loadRulesFile } from '../services/alerts/rules-file.js';
import { createIngestWorker, type IngestWorker } from '../services/ingest/ingest-worker.js';
import { seedRules } from '../storage/alert-rules-store.js';
import { countActiveAlerts } from '../storage/alerts-store.js';
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
import { advertisedMqttPorts, apiHttps, loadTls, mqttTlsListeners, renewTls } from './tls-setup.js';

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
  /** Issue 8: reads TLS_CERT_FILE and TLS_KEY_FILE again for new connections (SIGHUP); a ConfigError keeps the old ones. */
  renewTls(): Promise<void>;
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
    const fileRules = config.alertRulesFile === undefined ? [] : await loadRulesFile(config.alertRulesFile, (key) => catalogue.metrics.has(key));
    // Issue 8: TLS_CERT_FILE, TLS_KEY_FILE and MQTT_TLS_CLIENT_CA_FILE, checked before anything listens.
    const tls = await loadTls(config, logger);
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
    // Issue 7: the shipped alert rules whose id is absent (ON CONFLICT DO NOTHING: safe in every process at once).
    const rulesSeeded = (await seedRules(db, DEFAULT_RULES)) + (await seedRules(db, fileRules, false));
    if (rulesSeeded > 0) logger.info({ component: 'alerts', rulesSeeded }, `alerts: ${rulesSeeded} rules added (defaults and ALERT_RULES_FILE)`);

    const queue = createIngestQueue({ redisUrl, prefix: config.queuePrefix });
    steps.push({ name: 'queue', close: () => queue.close() });

    let worker: IngestWorker | undefined;
    let offline: OfflineMonitor | undefined;
    // Issue 7: alert changes, after their transaction committed: logged, and POSTed when ALERT_WEBHOOK_URL is set.
    let webhooks: AlertWebhooks | undefined;
    if (config.roles.includes('worker') && config.alertWebhookUrl !== undefined && config.alertWebhookSecret !== undefined) {
      const hooks = createAlertWebhooks({ redisUrl, prefix: config.queuePrefix, url: config.alertWebhookUrl, secret: config.alertWebhookSecret });
      hooks.events.on('failed', ({ eventId, attemptsMade, error }) => logger.warn({ component: 'alerts', eventId, attemptsMade, err: error }, 'alert webhook delivery failed'));
      webhooks = hooks;
      // Pushed before the worker, so it closes after the worker that publishes to it.
      steps.push({ name: 'alert webhooks', close: () => hooks.close() });
    }
    // Issue 5/7: committed readings and alert changes onto the Redis stream behind GET /api/v1/stream.
    // Workers publish what they commit, the API what operators acknowledge or clear. Closed after both (steps close in reverse).
    const live = config.roles.includes('worker') || config.roles.includes('api') ? createLivePublisher({ redisUrl, prefix: config.queuePrefix }) : undefined;
    if (live !== undefined) steps.push({ name: 'live publisher', close: () => live.close() });
    const alertsChanged = ({ opened, cleared }: AlertChanges) => {
      live?.alertsChanged([...opened.map((alert) => ({ change: 'opened' as const, alert: alertJson(alert) })), ...cleared.map((alert) => ({ change: 'cleared' as const, alert: alertJson(alert) }))]);
      for (const alert of opened) logger.warn({ component: 'alerts', alert }, `alert opened: ${alert.ruleId} on ${alert.deviceId}`);
      for (const alert of cleared) logger.info({ component: 'alerts', alert }, `alert cleared: ${alert.ruleId} on ${alert.deviceId}`);
      webhooks?.publish({ opened, cleared }).catch((error: unknown) => logger.error({ component: 'alerts', err: error }, 'alert webhook not queued'));
    };
    if (config.roles.includes('worker')) {
      worker = createIngestWorker(
        { redisUrl, prefix: config.queuePrefix, concurrency: config.workerConcurrency, stalledAfterMs: config.workerStalledAfterMs },
        {
          db, dictionary, catalogue, profiles, maxFutureSkewMs: config.maxFutureSkewMs,
          readingsCommitted: (readings) => live?.published(readings),
          evaluateAlerts: (tx, readings) => evaluateAlertRules(tx, readings, { dictionary }),
          alertsChanged,
          // The monitor starts below; a change committed before it exists waits for its first periodic check.
          sessionsChanged: () => offline?.requestCheck(),
        },
      );
      steps.push({ name: 'ingest worker', close: () => worker!.close() });
    }
    let maintenance: StorageMaintenance | undefined;
    if (config.roles.includes('worker')) {
      // With the writers: they need the partitions, and PGlite runs every role here.
      maintenance = await createStorageMaintenance(storageSettingsOf(config), { db, capabilities: storage.capabilities });
      steps.push({ name: 'storage maintenance', close: () => maintenance!.close() });
      // Issue 7: offline devices; every worker process runs it, an advisory lock lets one do each check.
      offline = createOfflineMonitor(
        {
          checkIntervalMs: config.offlineCheckIntervalMs, defaultExpectedIntervalS: config.deviceExpectedIntervalS, factor: config.deviceOfflineFactor,
          profileIntervalsS: new Map([...profiles.values()].flatMap((profile) => (profile.expectedIntervalS === undefined ? [] : [[profile.name, profile.expectedIntervalS] as const]))),
        },
        {
          db,
          changed: alertsChanged,
          failed: (error) => logger.error({ component: 'alerts', err: error }, 'offline check failed'),
        },
      );
      const monitor = offline;
      steps.push({ name: 'offline monitor', close: () => monitor.close() });
    }

    const opcua = opcuaMapping === undefined ? undefined : await startOpcuaGateway(config, opcuaMapping, { db, queue });
    if (opcua !== undefined) steps.push({ name: 'opcua gateway', close: () => opcua.close() });

    let gateway: MqttGateway | undefined;
    if (config.roles.includes('broker')) {
      // Issue 8: the backlog the broker bounds (docs/backpressure.md). Each job holds at least one message, so
      // listing more jobs than the mark would only confirm what their count already says.
      const backlog = createQueueBacklog(queue, { unknownJobMessages: config.batchMaxEnvelopes, maxListedJobs: config.mqttBacklogHighWater });
      steps.push({ name: 'queue backlog', close: () => backlog.close() });
      await backlog.refresh();
      const batcher = createEnvelopeBatcher({
        maxEnvelopes: config.batchMaxEnvelopes,
        maxWaitMs: config.batchMaxWaitMs,
        maxPayloadChars: 1024 * 1024,
        send: async (envelopes) => {
          await queue.add(envelopes);
          backlog.added(envelopes.length);
        },
      });
      const backpressure = createBackpressureGate(
        { highWaterMessages: config.mqttBacklogHighWater, maxHeldMessages: config.mqttBackpressureMaxHeld, maxHoldMs: config.mqttBackpressureMaxHoldMs },
        { backlogMessages: () => backlog.messages + batcher.pending },
      );
      gateway = await createMqttGateway(
        {
          host: config.listenHost,
          port: config.mqttPort,
          wsPort: config.mqttWsPort === 0 ? undefined : config.mqttWsPort,
          maxPacketBytes: config.mqttMaxPacketBytes,
          tls: mqttTlsListeners(config, tls),
          limits: { maxConnectionsPerAddress: config.mqttMaxConnectionsPerAddress, maxAuthFailures: config.mqttMaxAuthFailuresPerMinute },
        },
        { db, batcher, backpressure },
      );
      steps.push({ name: 'mqtt gateway', close: () => gateway!.close() });
    }

    let api: Api | undefined;
    let adminKey: AdminKeySource | undefined;
    if (config.roles.includes('api')) {
      adminKey = await ensureAdminKey(db, config.dataDir, config.apiAdminKey);
      const liveFeed = createLiveFeed({ redisUrl, prefix: config.queuePrefix });
      steps.push({ name: 'live feed', close: () => liveFeed.close() });
      api = await createApi(
        {
          host: config.listenHost, port: config.httpPort,
          // Issue 5: per-key rate limit, CORS and the stack's Prometheus metrics at /metrics.
          rateLimitPerMinute: config.apiRateLimitPerMinute,
          corsOrigins: config.apiCorsOrigins,
          https: apiHttps(config, tls),
          metrics: createStackMetrics({ worker, gateway, queue, activeAlerts: () => countActiveAlerts(db) }),
        },
        {
          db,
          dictionary,
          catalogue: catalogue.metrics,
          profiles,
          requireRole: createRoleGuard({ db, bootstrapAdminKey: config.apiAdminKey }),
          maxReadings: config.apiMaxRangeReadings,
          mqtt: advertisedMqttPorts(config, gateway),
          live: liveFeed,
          alertsChanged: (events) => live?.alertsChanged(events),
          readiness: [
            { name: 'database', check: async () => { await db.query('SELECT 1'); return { kind: db.kind, timescale: storage.capabilities.timescale, mode: storageMode }; } },
            { name: 'redis', check: async () => { await queue.ping(); return { queue: await queue.counts() }; } },
            ...opcuaReadiness(opcua),
            // Reported, never failing: an overloaded broker still serves the API (docs/backpressure.md).
            ...(gateway?.backpressure === undefined ? [] : [{ name: 'broker', check: async () => ({ ...gateway!.backpressure!.status() }) }]),
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
      renewTls: () => renewTls(config, logger, { gateway, api }),
    };
  } catch (error) {
    await closeStarted().catch(() => {});
    throw error;
  }
}
