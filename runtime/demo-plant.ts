import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parse, stringify } from 'yaml';
import type { Config } from '../config/config-schema.js';
import { routeNodeOpcuaLogs } from '../gateways/opcua/node-opcua-logs.js';
import { parsePlantConfig } from '../simulators/opcua/plant-config.js';
import { createPlantServer } from '../simulators/opcua/plant-server.js';

const EXAMPLE_MAPPING = path.resolve('config/opcua.example.yaml');

export interface DemoPlant {
  endpointUrl: string;
  points: number;
  /** config/opcua.example.yaml with this run's endpoint and server certificate. */
  mappingFile: string;
  close(): Promise<void>;
}

/**
 * For the demo: the plant simulator (water plant and substation over OPC UA,
 * SignAndEncrypt with a username) and a mapping file pointing the gateway at it.
 * PLANT_* variables tune the plant (simulators/opcua/plant-config.ts).
 */
export async function startDemoPlant(config: Readonly<Config>, logger: Logger, env: NodeJS.ProcessEnv): Promise<DemoPlant> {
  // Until the stack's gateway takes them over, node-opcua's console output goes to the log.
  const plantLog = logger.child({ component: 'plant', library: 'node-opcua' });
  routeNodeOpcuaLogs((level, message) => (level === 'error' ? plantLog.warn(message) : plantLog.debug(message)));
  const plant = await createPlantServer(parsePlantConfig({ PLANT_PKI_DIR: path.join(config.dataDir, 'plant-pki'), ...env }));
  try {
    const mapping = parse(await readFile(EXAMPLE_MAPPING, 'utf8')) as { servers: Array<{ endpoint: string; security: { serverCertificate: string } }> };
    mapping.servers[0]!.endpoint = plant.endpointUrl;
    mapping.servers[0]!.security.serverCertificate = path.resolve(plant.certificateFile);
    const mappingFile = path.resolve(config.dataDir, 'opcua-demo-mapping.yaml');
    await writeFile(mappingFile, `# Written by npm run demo from ${EXAMPLE_MAPPING}\n${stringify(mapping)}`);
    return { endpointUrl: plant.endpointUrl, points: plant.points.length, mappingFile, close: () => plant.close() };
  } catch (error) {
    await plant.close();
    throw error;
  }
}
