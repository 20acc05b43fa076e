#!/usr/bin/env node
import path from 'node:path';
import { routeNodeOpcuaLogs } from '../../gateways/opcua/node-opcua-logs.js';
import { parsePlantConfig, PlantConfigError } from './plant-config.js';
import { createPlantServer } from './plant-server.js';

/**
 * `npm run plant`: the water plant and substation OPC UA server, until Ctrl-C.
 * Configured by PLANT_* variables (simulators/opcua/plant-config.ts, docs/opcua.md).
 */
let config;
try {
  config = parsePlantConfig(process.env);
} catch (error) {
  if (!(error instanceof PlantConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
// node-opcua writes its warnings to stdout; keep them on stderr, away from the banner.
routeNodeOpcuaLogs((level, message) => process.stderr.write(`[node-opcua ${level}] ${message}\n`));

const plant = await createPlantServer(config);
const users = Object.keys(config.users ?? {});
process.stdout.write([
  '',
  'plant simulator is running',
  `  endpoint   ${plant.endpointUrl}`,
  `  security   ${(config.securityModes ?? []).join(', ')}; users: ${users.length === 0 ? 'anonymous' : users.join(', ')}`,
  `  points     ${plant.points.length} (ns=1;s=WaterPlant.… and ns=1;s=Substation.…)`,
  `  PKI        ${path.resolve(config.pkiDir)}  (server certificate: ${plant.certificateFile})`,
  '  stop       Ctrl-C',
  '',
].join('\n') + '\n');

let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  plant.close().then(() => process.exit(0), (error: Error) => {
    process.stderr.write(`closing the plant server failed: ${error.message}\n`);
    process.exit(1);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
