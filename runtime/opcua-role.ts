import path from 'node:path';
import type { Config } from '../config/config-schema.js';
import type { MetricCatalogue } from '../contracts/metric-catalogue.js';
import type { OpcuaGatewayConfig } from '../gateways/opcua/opcua-config.js';
import type { OpcuaGateway } from '../gateways/opcua/opcua-gateway.js';
import { createEnvelopeBatcher } from '../queue/envelope-batcher.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import type { Queryable } from '../storage/database.js';

/**
 * The opcua role of the stack. node-opcua takes seconds to import, so it is loaded only
 * by a process that runs the role with a mapping; the broker, worker and api roles never
 * pay for it.
 */

/** Whether this process runs the OPC UA gateway: the role, and a mapping for it. */
export function runsOpcua(config: Readonly<Config>): boolean {
  return config.roles.includes('opcua') && config.opcuaConfigFile !== undefined;
}

/** Reads and checks OPCUA_CONFIG_FILE before anything starts; `undefined` when the role is idle. */
export async function loadOpcuaMapping(config: Readonly<Config>, catalogue: MetricCatalogue): Promise<OpcuaGatewayConfig | undefined> {
  if (!runsOpcua(config)) return undefined;
  const { loadOpcuaConfig } = await import('../gateways/opcua/parse-opcua-config.js');
  return loadOpcuaConfig(config.opcuaConfigFile!, { catalogue });
}

export async function startOpcuaGateway(
  config: Readonly<Config>, mapping: OpcuaGatewayConfig, deps: { db: Queryable; queue: IngestQueue },
): Promise<OpcuaGateway> {
  const [{ createOpcuaGateway }, { routeNodeOpcuaLogs }, { registerOpcuaDevices }] = await Promise.all([
    import('../gateways/opcua/opcua-gateway.js'), import('../gateways/opcua/node-opcua-logs.js'), import('../gateways/opcua/register-devices.js'),
  ]);
  // Devices first: a value of an unregistered device would be quarantined.
  await registerOpcuaDevices(deps.db, mapping.devices);
  // node-opcua logs with console.log, process-wide: into the gateway's events, and so into pino.
  // Routed before the first connection; what comes before the gateway exists is dropped.
  const routed: { to?: OpcuaGateway } = {};
  routeNodeOpcuaLogs((level, message) => routed.to?.events.emit('library', { level, message }));
  // Its own batcher: closing the gateway flushes what it received, whatever the broker does.
  const batcher = createEnvelopeBatcher({
    maxEnvelopes: config.batchMaxEnvelopes,
    maxWaitMs: config.batchMaxWaitMs,
    maxPayloadChars: 1024 * 1024,
    send: (envelopes) => deps.queue.add(envelopes),
  });
  const gateway = await createOpcuaGateway(
    { config: mapping, pkiDir: config.opcuaPkiDir ?? path.join(config.dataDir, 'opcua-pki'), backlogMaxValues: config.opcuaBacklogMaxValues },
    { batcher },
  );
  routed.to = gateway;
  return gateway;
}

/**
 * The /readyz entry: each server's connection state, nodes and value counters. It does
 * not fail when a server is down: a plant outage is not this process's unreadiness, and
 * taking the API out of rotation for it would hide the very state it reports.
 */
export function opcuaReadiness(gateway: OpcuaGateway | undefined): Array<{ name: string; check: () => Promise<Record<string, unknown>> }> {
  if (gateway === undefined) return [];
  return [{ name: 'opcua', check: async () => ({ servers: gateway.status() }) }];
}
