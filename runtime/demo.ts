#!/usr/bin/env node
import path from 'node:path';
import { createSimulatorFleet } from '../simulators/fleet.js';
import { parseSimulatorConfig } from '../simulators/config.js';
import { formatBanner } from './banner.js';
import { startDemoPlant } from './demo-plant.js';
import { runProcess } from './run-process.js';
import { startStack } from './stack.js';

const PROGRESS_INTERVAL_MS = 10_000;

/**
 * `npm run demo`: the whole stack plus simulated sensors of both kinds: a fleet of MQTT
 * devices registered through the API with the admin key (SIM_DEVICES, SIM_INTERVAL_MS,
 * SIM_SEED; secrets remembered in DATA_DIR), and an OPC UA plant (water plant and
 * substation) that the stack's OPC UA gateway subscribes to.
 */
await runProcess(async ({ config, logger }) => {
  const plant = await startDemoPlant(config, logger, process.env);
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({ ...config, opcuaConfigFile: config.opcuaConfigFile ?? plant.mappingFile }, logger);
  } catch (error) {
    await plant.close();
    throw error;
  }
  process.stdout.write(`${formatBanner(stack)}\n`);
  const adminKey = config.apiAdminKey ?? (stack.adminKey?.kind === 'generated' || stack.adminKey?.kind === 'file' ? stack.adminKey.token : undefined);
  if (adminKey === undefined || stack.api === undefined || stack.gateway === undefined) {
    await stack.close();
    await plant.close();
    throw new Error('the demo needs all roles and an admin key: unset ROLES, and set API_ADMIN_KEY when the database holds keys from elsewhere');
  }
  const host = config.listenHost === '0.0.0.0' || config.listenHost === '::' ? '127.0.0.1' : config.listenHost;
  const sim = parseSimulatorConfig({
    SIM_CREDENTIALS_FILE: path.join(config.dataDir, 'simulator-credentials.json'),
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('SIM_'))),
    API_URL: `http://${host}:${stack.api.port}`,
    MQTT_URL: `mqtt://${host}:${stack.gateway.port}`,
    API_KEY: adminKey,
  });
  const fleet = await createSimulatorFleet({
    mqttUrl: sim.mqttUrl,
    apiUrl: sim.apiUrl,
    adminKey: sim.adminKey,
    credentialsFile: sim.credentialsFile,
    devices: sim.devices,
    intervalMs: sim.intervalMs,
    idPrefix: sim.idPrefix,
    seed: sim.seed,
    qos: sim.qos,
  });
  const simLog = logger.child({ component: 'simulator' });
  fleet.on('deviceError', ({ deviceId, error }) => simLog.warn({ deviceId, err: error }, 'simulated device error'));
  fleet.on('refused', ({ deviceId, returnCode }) => simLog.warn({ deviceId, returnCode }, 'simulated device refused'));
  fleet.on('publishFailed', ({ deviceId, reason }) => simLog.warn({ deviceId, reason }, 'simulated reading not acknowledged'));
  fleet.start();
  const first = fleet.devices[0];
  process.stdout.write(
    `simulating ${fleet.devices.length} devices (${sim.idPrefix}-env-…, -water-…, -grid-…, -safety-…), one reading every ~${sim.intervalMs} ms each\n` +
      (first === undefined ? '' : `  try: curl -s localhost:${stack.api.port}/api/v1/devices/${first.id}/latest -H "authorization: Bearer $(cat ${path.join(config.dataDir, 'admin-api-key')})"\n`) +
      `OPC UA plant simulator at ${plant.endpointUrl} (${plant.points} points), read by the gateway through ${plant.mappingFile}\n` +
      `  try: curl -s localhost:${stack.api.port}/api/v1/devices/plant-pump-1/latest -H "authorization: Bearer $(cat ${path.join(config.dataDir, 'admin-api-key')})"\n`,
  );
  const progress = setInterval(() => simLog.info({ ...fleet.stats() }, 'simulator progress'), PROGRESS_INTERVAL_MS);
  progress.unref();
  return {
    async close() {
      clearInterval(progress);
      // Devices first, so their last readings are acknowledged before the broker goes;
      // the plant last, so the gateway does not report its shutdown as an outage.
      await fleet.close();
      await stack.close();
      await plant.close();
    },
  };
});
