/**
 * Runs a simulator fleet against a running stack until SIGINT/SIGTERM:
 *
 *   API_KEY=… npx tsx simulators/cli.ts
 *
 * Configuration comes from the environment (see config.ts). This is the only simulator
 * module that prints: a progress line every few seconds, connection changes, and errors,
 * each distinct error once per device so a broker outage does not flood the terminal.
 */

import { pathToFileURL } from 'node:url';
import { parseSimulatorConfig, KNOWN_SIM_VARIABLES, type SimulatorConfig } from './config.js';
import { createSimulatorFleet, type SimulatorFleet } from './fleet.js';
import type { FleetStats } from './fleet-events.js';

export { parseSimulatorConfig, type SimulatorConfig } from './config.js';

const PROGRESS_INTERVAL_MS = 5000;

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

// Plain writes rather than console.*, which the lint rules keep out of the code base.
function log(line: string): void {
  process.stdout.write(`[sim ${stamp()}] ${line}\n`);
}

function warn(line: string): void {
  process.stderr.write(`[sim ${stamp()}] ${line}\n`);
}

function formatStats(stats: FleetStats, ratePerSecond?: number): string {
  const rate = ratePerSecond === undefined ? '' : ` (${ratePerSecond.toFixed(1)}/s)`;
  return (
    `connected ${stats.connected}/${stats.devices}${stats.refused > 0 ? `, refused ${stats.refused}` : ''} · ` +
    `published ${stats.published}${rate} · acked ${stats.acknowledged} · failed ${stats.failed} · pending ${stats.pending}`
  );
}

function reportEvents(fleet: SimulatorFleet): void {
  // Last message printed per device: repeated reconnect errors are shown once until something changes.
  const lastShown = new Map<string, string>();
  const once = (deviceId: string, message: string, print: () => void): void => {
    if (lastShown.get(deviceId) === message) return;
    lastShown.set(deviceId, message);
    print();
  };
  fleet.on('connected', ({ deviceId }) => once(deviceId, 'connected', () => log(`${deviceId} connected`)));
  fleet.on('disconnected', ({ deviceId }) => once(deviceId, 'disconnected', () => log(`${deviceId} disconnected; reconnecting`)));
  fleet.on('refused', ({ deviceId, error, retryInMs }) =>
    once(deviceId, error.message, () =>
      warn(`${error.message}${retryInMs === undefined ? '' : `; retrying every ${retryInMs} ms`}`),
    ),
  );
  fleet.on('deviceError', ({ deviceId, error }) =>
    once(deviceId, error.message, () => warn(`${deviceId}: ${error.message}`)),
  );
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second Ctrl-C while closing means "now": skip waiting for acknowledgements.
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runSimulatorCli(env: NodeJS.ProcessEnv): Promise<number> {
  let config: Readonly<SimulatorConfig>;
  try {
    config = parseSimulatorConfig(env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  for (const name of config.unknownVariables) {
    warn(`warning: ${name} is not a simulator variable and is ignored (known: ${KNOWN_SIM_VARIABLES.join(', ')})`);
  }
  const signal = waitForSignal();
  log(`registering ${config.devices} devices at ${config.apiUrl} (credentials kept in ${config.credentialsFile})`);
  let fleet: SimulatorFleet;
  try {
    fleet = await createSimulatorFleet({
      mqttUrl: config.mqttUrl,
      apiUrl: config.apiUrl,
      adminKey: config.adminKey,
      credentialsFile: config.credentialsFile,
      devices: config.devices,
      intervalMs: config.intervalMs,
      idPrefix: config.idPrefix,
      seed: config.seed,
      qos: config.qos,
    });
  } catch (error) {
    warn(`cannot start the simulator fleet: ${(error as Error).message}`);
    return 1;
  }
  reportEvents(fleet);
  fleet.start();
  log(`publishing to ${config.mqttUrl} every ~${config.intervalMs} ms per device; Ctrl-C stops`);

  let previous = fleet.stats();
  let previousAt = Date.now();
  const progress = setInterval(() => {
    const stats = fleet.stats();
    const at = Date.now();
    log(formatStats(stats, ((stats.published - previous.published) * 1000) / Math.max(1, at - previousAt)));
    previous = stats;
    previousAt = at;
  }, PROGRESS_INTERVAL_MS);

  const received = await signal;
  clearInterval(progress);
  log(`${received}: stopping; waiting briefly for acknowledgements`);
  try {
    await fleet.close();
  } catch (error) {
    warn(`error while closing: ${(error as Error).message}`);
    log(formatStats(fleet.stats()));
    return 1;
  }
  log(`stopped · ${formatStats(fleet.stats())}`);
  return 0;
}

// Runs only as the entry point, so tests can import parseSimulatorConfig from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runSimulatorCli(process.env);
}
