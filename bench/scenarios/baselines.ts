import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { generateDeviceSecret } from '../../services/auth/device-secrets.js';
import { findFreePort } from '../../runtime/free-port.js';
import { createPostgresDatabase } from '../../runtime/postgres-database.js';
import { migrate } from '../../storage/migrate.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { insertReadings } from '../../storage/readings-store.js';
import { batchesOf, DAY_MS, fleetReadings, MINUTE_MS } from '../storage-dataset.js';
import { benchDeviceIds, registerDevices, serverProcesses } from '../support/bench-stack.js';
import { ingestSettings, type IngestSettings } from '../support/ingest-settings.js';
import { cpuPercentBetween, sampleCpu } from '../support/process-cpu.js';
import { productionNodeFlags } from '../support/production-flags.js';
import { REPO_ROOT, startNodeProcess } from '../support/role-process.js';
import type { BenchContext, Scenario } from '../support/scenario.js';
import { measureSustained } from '../support/sustained-rate.js';

/*
 * Scenario 1: what the two ends of the pipeline can do on their own on this machine, in
 * the same run and on the same database as the ingest scenarios, so their ratios mean
 * something: the app's batch writer alone, and the broker alone.
 */

/** Share of each batch offered again (QoS 1 redeliveries, job retries), which the writer must ignore. */
const REDELIVERED_SHARE = 0.1;

interface WriterFigures {
  storedPerS: number;
  offeredPerS: number;
  stored: number;
  batchRows: number;
  writers: number;
  cpuPercent: Record<string, number>;
}

/**
 * The app's own `insertReadings` (one transaction per batch, as a worker job) on as many
 * connections as the workers use in all, over a fleet's readings with 10 % redeliveries.
 */
async function writerAlone(context: BenchContext, settings: IngestSettings, durationMs: number): Promise<WriterFigures> {
  const database = await createPostgresDatabase(context.postgresUrl, `bench_writer_${randomBytes(4).toString('hex')}`);
  const writers = settings.workers * settings.workerConcurrency;
  const db = createPgDatabase({ connectionString: database.url, maxConnections: writers });
  try {
    await migrate(db);
    const watched = [{ name: 'writer (this process)', pid: process.pid }, ...(await serverProcesses(db, context.redisUrl))];
    // A job of ten-reading messages writes batchMaxMessages × 10 rows.
    const batchRows = settings.batchMaxMessages * 10;
    const now = Date.now();
    const fleet = fleetReadings({ devices: 1000, metrics: 5, periodMs: MINUTE_MS, fromMs: now - 7 * DAY_MS, toMs: now });
    const batches = batchesOf(fleet, batchRows, REDELIVERED_SHARE);
    let offered = 0;
    let stored = 0;
    const cpuStart = await sampleCpu(watched);
    const started = performance.now();
    const deadline = started + durationMs;
    await Promise.all(Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const next = batches.next();
        if (next.done === true) return;
        const batch = next.value;
        const inserted = await db.transaction((tx) => insertReadings(tx, batch));
        stored += inserted;
        offered += batch.length;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const cpuEnd = await sampleCpu(watched);
    const counted = await db.query<{ n: string }>('SELECT count(*) AS n FROM readings');
    if (Number(counted.rows[0]?.n) !== stored) throw new Error(`the writer reported ${stored} new rows but the table holds ${counted.rows[0]?.n}`);
    return { storedPerS: Math.round(stored / seconds), offeredPerS: Math.round(offered / seconds), stored, batchRows, writers, cpuPercent: cpuPercentBetween(cpuStart, cpuEnd) };
  } finally {
    await db.close();
    await database.drop();
  }
}

/** The gateway with nothing behind it (bench/support/broker-alone.ts), loaded like the ingest scenarios. */
async function brokerAlone(context: BenchContext, settings: IngestSettings) {
  const database = await createPostgresDatabase(context.postgresUrl, `bench_broker_${randomBytes(4).toString('hex')}`);
  const db = createPgDatabase({ connectionString: database.url, maxConnections: 2 });
  const port = await findFreePort();
  try {
    await migrate(db);
    const deviceIds = benchDeviceIds(settings.devices);
    const secret = generateDeviceSecret();
    await registerDevices(db, deviceIds, secret);
    const broker = await startNodeProcess({
      name: 'broker alone',
      args: [path.join(REPO_ROOT, 'bench', 'support', 'broker-alone.ts')],
      // tsx compiles once at start; the broker then runs the same JavaScript as the compiled gateway, with its Node flags.
      execArgv: [...productionNodeFlags(REPO_ROOT), '--import', 'tsx'],
      env: { DATABASE_URL: database.url, MQTT_PORT: String(port), INGEST_BATCH_MAX_MESSAGES: String(settings.batchMaxMessages) },
      readyText: 'broker alone listening',
    });
    try {
      return await measureSustained(context, {
        plan: { host: '127.0.0.1', port, deviceIds, secret, readingsPerMessage: 1, inFlightPerConnection: settings.inFlightPerConnection },
        warmupMs: Math.min(settings.warmupMs, 5_000),
        windowMs: Math.min(settings.windowMs, 20_000),
        watched: [{ name: 'broker alone', pid: broker.pid }],
      });
    } finally {
      await broker.stop();
    }
  } finally {
    await db.close();
    await database.drop();
  }
}

/** Whether the broker-alone figure is the broker's limit or the generator's. */
function generatorNote(cpu: Record<string, number>): string {
  const generator = cpu['load generator'] ?? 0;
  const broker = cpu['broker alone'] ?? 0;
  const verdict = generator < 90 && broker >= generator
    ? 'the generator had CPU to spare, so the broker sets the broker-alone figure'
    : 'the generator was near a full core: the broker-alone figure may be the generator\'s limit';
  return `Load generator ${generator} % of a core, broker alone ${broker} %: ${verdict}.`;
}

export const baselinesScenario: Scenario = {
  name: 'baselines',
  title: 'Baselines: the batch writer alone and the broker alone',
  async run(context) {
    const settings = ingestSettings(context);
    const writerMs = context.quick ? 2_000 : 20_000;
    context.progress(`writer alone: ${writerMs / 1000} s of insertReadings`);
    const writer = await writerAlone(context, settings, writerMs);
    context.progress(`writer alone: ${writer.storedPerS.toLocaleString('en')} readings/s; broker alone next`);
    // Let PostgreSQL's background writer settle before the next measurement.
    await delay(context.quick ? 0 : 2_000);
    const broker = await brokerAlone(context, settings);
    return {
      name: 'baselines',
      title: this.title,
      figures: {
        writer_alone: { value: writer.storedPerS, unit: 'readings/s' },
        writer_alone_offered: { value: writer.offeredPerS, unit: 'readings/s incl. redeliveries' },
        broker_alone: { value: broker.ackedMessagesPerS, unit: 'messages/s (QoS 1)' },
        generator_cpu_at_broker_alone: { value: broker.cpuPercent['load generator'] ?? 0, unit: '% of a core' },
        broker_cpu_at_broker_alone: { value: broker.cpuPercent['broker alone'] ?? 0, unit: '% of a core' },
      },
      configuration: {
        writer: { batchRows: writer.batchRows, connections: writer.writers, durationS: writerMs / 1000, redeliveredShare: REDELIVERED_SHARE, fleet: '1000 devices × 5 metrics, 1-minute period' },
        broker: { devices: settings.devices, inFlightPerConnection: settings.inFlightPerConnection, windowS: Math.min(settings.windowMs, 20_000) / 1000, batchMaxMessages: settings.batchMaxMessages },
        cpuPercentWriter: writer.cpuPercent,
        cpuPercentBroker: broker.cpuPercent,
      },
      notes: [
        'Writer alone: storage/readings-store.ts insertReadings, one transaction per batch, on as many connections as the ingest workers use in all; redeliveries are offered and ignored (ON CONFLICT DO NOTHING).',
        'Broker alone: the MQTT gateway (listeners, authentication, envelopes, batching) with a batcher that succeeds at once: no Redis, no workers.',
        generatorNote(broker.cpuPercent),
      ],
    };
  },
};
