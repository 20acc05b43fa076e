import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { findFreePort } from '../../runtime/free-port.js';
import { startRole } from '../support/role-process.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../support/scenario.js';
import { ensureDeviceCredentials } from './device-credentials.js';
import { startIdleConnections } from './idle-connections.js';
import { wholeNumberOption } from '../support/options.js';

/*
 * Scenario 6: many idle device connections to the broker process as production runs it
 * (`node dist/runtime/main.js`, ROLES=broker): each device logs in with its own secret
 * (a real scrypt verification per CONNECT), then stays connected with keep-alive pings.
 * The broker's resident memory is read from /proc before and after; the connect rate
 * counts CONNACKs received per second of the whole connect phase.
 *
 *   --connections=N   devices (default 10000; 50 with --quick)
 *   --hold-s=S        how long the connections stay idle after the last CONNACK
 */

const FULL = { connections: 10_000, keepaliveS: 60, holdS: 100, connectsAtOnce: 64 };
const QUICK = { connections: 50, keepaliveS: 4, holdS: 7, connectsAtOnce: 16 };
const RSS_TARGET_MIB = 1024;
const PROGRESS_MS = 10_000;

/** Resident and peak resident memory of a process, in MiB, from /proc/<pid>/status. */
async function memoryMiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: Math.round(kib('VmRSS') / 102.4) / 10, peak: Math.round(kib('VmHWM') / 102.4) / 10 };
}

function settings(context: BenchContext) {
  const base = context.quick ? QUICK : FULL;
  const number = (key: string, fallback: number) => wholeNumberOption(context, key, fallback);
  return { ...base, connections: number('connections', base.connections), holdS: number('hold-s', base.holdS) };
}

export const connectionsScenario: Scenario = {
  name: 'connections',
  title: 'Idle MQTT device connections',
  async run(context): Promise<ScenarioResult> {
    const config = settings(context);
    const fleet = await ensureDeviceCredentials(context.postgresUrl, config.connections, context.progress);
    context.progress(`${config.connections} devices with their own scrypt-hashed secrets ${fleet.reused ? 'reused' : `made in ${fleet.hashSeconds.toFixed(1)} s`}`);
    const mqttPort = await findFreePort();
    const broker = await startRole('broker', ['broker'], {
      DATABASE_URL: fleet.url, REDIS_URL: context.redisUrl, QUEUE_PREFIX: `bench-connections-${randomBytes(3).toString('hex')}`,
      DATA_DIR: path.join(context.workDir, 'broker'), LISTEN_HOST: '127.0.0.1', MQTT_PORT: String(mqttPort), MQTT_WS_PORT: '0',
    }, context.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(context.cpuProfileDir, 'connections-broker')}`]);
    try {
      // Settled after start-up (migrations checked, queue connected) before the first reading.
      await delay(2000);
      const before = await memoryMiB(broker.pid);
      context.progress(`broker pid ${broker.pid} up, resident ${before.rss} MiB; connecting ${config.connections} devices, ${config.connectsAtOnce} CONNECTs in flight`);
      const generator = startIdleConnections({
        type: 'plan', host: '127.0.0.1', port: mqttPort, devices: fleet.devices, keepaliveS: config.keepaliveS, connectsAtOnce: config.connectsAtOnce,
      });
      const ticker = setInterval(() => {
        const counts = generator.latest();
        void memoryMiB(broker.pid).then((memory) => context.progress(`${counts.open} connected, ${counts.failed} failed; broker resident ${memory.rss} MiB`), () => {});
      }, PROGRESS_MS);
      let connected;
      try {
        connected = await generator.connected;
      } finally {
        clearInterval(ticker);
      }
      const rate = Math.round((connected.open / (connected.connectMs / 1000)) * 10) / 10;
      const afterConnect = await memoryMiB(broker.pid);
      context.progress(`${connected.open} connected in ${(connected.connectMs / 1000).toFixed(1)} s (${rate}/s), ${connected.failed} failed; broker resident ${afterConnect.rss} MiB; idle for ${config.holdS} s`);
      await delay(config.holdS * 1000);
      const afterIdle = await memoryMiB(broker.pid);
      const closed = await generator.close();
      const full = config.connections >= FULL.connections;
      const rssFigure: Figure = full
        ? { value: afterIdle.rss, unit: 'MiB', target: `< ${RSS_TARGET_MIB}`, met: afterIdle.rss < RSS_TARGET_MIB }
        : { value: afterIdle.rss, unit: 'MiB' };
      const stillOpenFigure: Figure = { value: closed.stillOpen, unit: 'connections', target: `= ${config.connections}`, met: closed.stillOpen === config.connections };
      return {
        name: 'connections',
        title: 'Idle MQTT device connections',
        figures: {
          broker_resident_before: { value: before.rss, unit: 'MiB' },
          broker_resident_connected: rssFigure,
          broker_resident_peak: { value: afterIdle.peak, unit: 'MiB' },
          per_connection: { value: Math.round(((afterIdle.rss - before.rss) * 1024 / Math.max(1, connected.open)) * 10) / 10, unit: 'KiB' },
          connect_rate: { value: rate, unit: 'connections/s' },
          connacks: { value: connected.open, unit: 'connections' },
          still_open_after_idle: stillOpenFigure,
        },
        configuration: {
          connections: config.connections, keepaliveS: config.keepaliveS, idleS: config.holdS, connectsInFlight: config.connectsAtOnce,
          credentials: 'one secret per device, scrypt N=16384 r=8 p=1 (the production cost)', credentialsReused: fleet.reused,
          hashingS: Math.round(fleet.hashSeconds), protocol: 'MQTT 3.1.1, clean session',
        },
        notes: [
          `Resident memory: VmRSS of the broker process (/proc/${broker.pid}/status) after start-up, after the last CONNACK (${afterConnect.rss} MiB) and after ${config.holdS} s idle; peak is VmHWM. Per connection = (connected − before) ÷ connections; it includes scrypt's working memory (16 MiB per verification, up to four at once on libuv's thread pool, ~64 MiB kept by the allocator after the first CONNECTs), which weighs on small runs.`,
          `Connect rate: CONNACKs received ÷ the whole connect phase (${(connected.connectMs / 1000).toFixed(1)} s). Each CONNECT costs the broker one scrypt verification of the device's own hash (~50 ms of CPU by design, services/auth/device-secrets.ts), so the rate is bounded by the cores, not by the sockets.`,
          `Failed CONNECTs ${connected.failed}; connections the broker closed while idle ${closed.droppedByBroker}.${connected.errors.length > 0 ? ` First errors: ${connected.errors.slice(0, 3).join('; ')}` : ''}`,
        ],
      };
    } finally {
      await broker.stop();
    }
  },
};
