import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { INGEST_QUEUE_NAME } from '../../contracts/queue.js';
import { redisConnection } from '../../queue/redis-connection.js';
import { findFreePort } from '../../runtime/free-port.js';
import { createPostgresDatabase } from '../../runtime/postgres-database.js';
import { createPgDatabase } from '../../storage/pg-database.js';
import { createPlantModel, plantPoints, type PlantPoint } from '../../simulators/opcua/plant-model.js';
import { loadAverage } from '../support/machine.js';
import { REPO_ROOT, startNodeProcess, startRole, type NodeProcess } from '../support/role-process.js';
import type { BenchContext, Scenario, ScenarioResult } from '../support/scenario.js';
import { wholeNumberOption } from '../support/options.js';

/*
 * Scenario 7: OPC UA monitored items per second through the gateway. The plant simulator
 * (`npm run plant`'s compiled entry) runs in its own process with many points changing
 * fast; the gateway is the opcua role (OPCUA_CONFIG_FILE) in its own process, one ingest
 * worker stores what it queues. Over a window after warm-up: readings stored per second,
 * quarantined ones, and the queue's backlog at the end (a growing backlog would mean the
 * values arrive faster than they are stored).
 *
 *   --plant-pumps=N --plant-feeders=N --plant-update-ms=MS   the plant (defaults 20, 50, 100)
 *   --opcua-publishing-ms=MS --opcua-sampling-ms=MS          the subscription (defaults 250, 100)
 */

const FULL = { pumps: 20, feeders: 50, updateMs: 100, publishingMs: 250, samplingMs: 100, warmupS: 15, windowS: 60 };
const QUICK = { pumps: 3, feeders: 3, updateMs: 200, publishingMs: 250, samplingMs: 200, warmupS: 4, windowS: 5 };
const FIRST_VALUE_TIMEOUT_MS = 120_000;
const PLANT_USER = { username: 'bench', password: 'bench-plant-password' };

function settings(context: BenchContext) {
  const base = context.quick ? QUICK : FULL;
  const number = (key: string, fallback: number) => wholeNumberOption(context, key, fallback);
  return {
    ...base,
    pumps: number('plant-pumps', base.pumps), feeders: number('plant-feeders', base.feeders), updateMs: number('plant-update-ms', base.updateMs),
    publishingMs: number('opcua-publishing-ms', base.publishingMs), samplingMs: number('opcua-sampling-ms', base.samplingMs),
  };
}

/** `WaterPlant.Pump3.Flow` → `plant-pump-3`; `Substation.Feeder12.Current` → `substation-feeder-12`. */
function deviceOf(point: PlantPoint): { id: string; domain: 'water' | 'grid' } {
  const [site = '', part = ''] = point.key.split('.');
  const water = site === 'WaterPlant';
  return { id: `${water ? 'plant' : 'substation'}-${part.replace(/([a-z])(\d)/g, '$1-$2').toLowerCase()}`, domain: water ? 'water' : 'grid' };
}

/** The gateway's mapping: every point of the plant, SignAndEncrypt with a user, as a real plant would be reached. */
function mappingFile(points: readonly PlantPoint[], endpoint: string, serverCertificate: string, config: ReturnType<typeof settings>): string {
  const devices: Record<string, { domain: string; name: string }> = {};
  for (const point of points) {
    const device = deviceOf(point);
    devices[device.id] = { domain: device.domain, name: `bench ${device.id}` };
  }
  return stringify({
    devices,
    servers: [{
      name: 'plant',
      endpoint,
      security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', serverCertificate },
      identity: { type: 'username', ...PLANT_USER },
      subscriptions: { default: { publishingIntervalMs: config.publishingMs } },
      nodes: points.map((point) => ({
        nodeId: `ns=1;s=${point.key}`, device: deviceOf(point).id, metric: point.metric,
        ...(point.unit === undefined || point.unit === '1' ? {} : { unit: point.unit }), samplingIntervalMs: config.samplingMs,
      })),
    }],
  });
}

/**
 * Value changes per second the plant model makes at this update interval, replayed here
 * over a minute of the same model: its physics is smooth and its instruments round, so
 * most points keep their value from one update to the next, and an unchanged value is
 * not reported by a subscription (DataChangeTrigger StatusValue).
 */
function modelChangesPerS(config: ReturnType<typeof settings>): number {
  const model = createPlantModel({ pumps: config.pumps, feeders: config.feeders, seed: 1 });
  const last = new Map<string, unknown>();
  const startMs = Date.now();
  let changes = 0;
  for (let atMs = startMs; atMs < startMs + 60_000; atMs += config.updateMs) {
    for (const [key, value] of model.step(atMs)) {
      if (last.has(key) && last.get(key) !== value) changes += 1;
      last.set(key, value);
    }
  }
  return Math.round(changes / 60);
}

export const opcuaScenario: Scenario = {
  name: 'opcua',
  title: 'OPC UA monitored items through the gateway',
  async run(context): Promise<ScenarioResult> {
    const config = settings(context);
    const points = plantPoints(config.pumps, config.feeders);
    await mkdir(context.workDir, { recursive: true });
    const database = await createPostgresDatabase(context.postgresUrl, `bench_opcua_${randomBytes(4).toString('hex')}`);
    const db = createPgDatabase({ connectionString: database.url, maxConnections: 1 });
    const prefix = `bench-opcua-${randomBytes(3).toString('hex')}`;
    const queue = new Queue(INGEST_QUEUE_NAME, { connection: redisConnection(context.redisUrl, 1), prefix });
    queue.on('error', () => {});
    const processes: NodeProcess[] = [];
    try {
      const plantPort = await findFreePort();
      const plantPki = path.join(context.workDir, 'plant-pki');
      processes.push(await startNodeProcess({
        name: 'plant', args: [path.join(REPO_ROOT, 'dist', 'simulators', 'opcua', 'cli.js')], readyText: 'plant simulator is running',
        env: {
          PLANT_PORT: String(plantPort), PLANT_HOST: '127.0.0.1', PLANT_PKI_DIR: plantPki, PLANT_USERS: `${PLANT_USER.username}:${PLANT_USER.password}`,
          PLANT_ALLOW_ANONYMOUS: 'false', PLANT_SECURITY_MODES: 'SignAndEncrypt', PLANT_UPDATE_MS: String(config.updateMs),
          PLANT_PUMPS: String(config.pumps), PLANT_FEEDERS: String(config.feeders),
        },
      }));
      const mapping = path.join(context.workDir, 'opcua-mapping.yaml');
      await writeFile(mapping, mappingFile(points, `opc.tcp://127.0.0.1:${plantPort}`, path.join(plantPki, 'own', 'certs', 'certificate.pem'), config));
      const env = {
        DATABASE_URL: database.url, REDIS_URL: context.redisUrl, QUEUE_PREFIX: prefix, DATA_DIR: path.join(context.workDir, 'stack'),
        LISTEN_HOST: '127.0.0.1', OPCUA_CONFIG_FILE: mapping,
      };
      const profile = (role: string) => (context.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(context.cpuProfileDir, `opcua-${role}`)}`]);
      // The worker migrates the database; the gateway registers the plant's devices in it.
      processes.push(await startRole('worker', ['worker'], env, profile('worker')));
      processes.push(await startRole('gateway', ['opcua'], env, profile('gateway')));
      const counts = async () => {
        const result = await db.query<{ stored: string; quarantined: string }>(
          'SELECT (SELECT count(*) FROM readings) AS stored, (SELECT count(*) FROM quarantine) AS quarantined');
        return { stored: Number(result.rows[0]?.stored ?? 0), quarantined: Number(result.rows[0]?.quarantined ?? 0) };
      };
      // The role is up before its session is: the secure channel, session and subscriptions follow.
      const connectStarted = performance.now();
      while ((await counts()).stored === 0) {
        if (performance.now() - connectStarted > FIRST_VALUE_TIMEOUT_MS) throw new Error(`no OPC UA value stored within ${FIRST_VALUE_TIMEOUT_MS / 1000} s of the gateway's start`);
        await delay(250);
      }
      const firstValueS = (performance.now() - connectStarted) / 1000;
      context.progress(`first value stored ${firstValueS.toFixed(1)} s after the gateway started; plant: ${points.length} points changing every ${config.updateMs} ms; sampling ${config.samplingMs} ms, publishing ${config.publishingMs} ms; warming up ${config.warmupS} s`);
      await delay(config.warmupS * 1000);
      const first = await counts();
      const started = performance.now();
      const ticker = setInterval(() => {
        void counts().then((now) => context.progress(`${now.stored - first.stored} stored in the window so far`), () => {});
      }, 10_000);
      await delay(config.windowS * 1000);
      clearInterval(ticker);
      const last = await counts();
      const seconds = (performance.now() - started) / 1000;
      const backlog = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const storedPerS = Math.round((last.stored - first.stored) / seconds);
      return {
        name: 'opcua',
        title: 'OPC UA monitored items through the gateway',
        figures: {
          stored: { value: storedPerS, unit: 'item values/s' },
          quarantined: { value: Math.round((last.quarantined - first.quarantined) / seconds), unit: 'item values/s' },
          plant_changes: { value: modelChangesPerS(config), unit: 'changes/s' },
          queue_backlog_at_end: { value: Object.values(backlog).reduce((sum, count) => sum + count, 0), unit: 'jobs' },
        },
        configuration: {
          monitoredItems: points.length, analogItems: points.filter((point) => point.dataType === 'Double').length, plantUpdateMs: config.updateMs, samplingIntervalMs: config.samplingMs,
          publishingIntervalMs: config.publishingMs, queueSize: 10, firstValueS: Math.round(firstValueS * 10) / 10, security: 'SignAndEncrypt Basic256Sha256, username', warmupS: config.warmupS, windowS: config.windowS,
          processes: 'plant simulator, opcua role, one worker role',
        },
        notes: [
          `Stored = rows counted in the readings table at the start and end of the ${config.windowS} s window. Plant changes = the value changes the plant model makes per second at this update interval, replayed in the bench over a minute of the same model (seed 1): a subscription reports changes only, so stored ≈ plant changes means the gateway passed on everything the server had to report and the plant, not the gateway, set the rate.`,
          `Load average at the window's end ${loadAverage()}.`,
        ],
      };
    } finally {
      // Intake first: the gateway flushes what it received, then the worker stores it.
      for (const process of [...processes].reverse()) await process.stop().catch((error: Error) => context.progress(`stopping ${process.name}: ${error.message}`));
      await queue.close();
      await db.close();
      await database.drop();
    }
  },
};
