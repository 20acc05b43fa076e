import { EventEmitter } from 'node:events';
import type { EnvelopeBatcher } from '../../queue/envelope-batcher.js';
import type { OpcuaGatewayConfig } from './opcua-config.js';
import { openGatewayPki } from './opcua-pki.js';
import { createServerConnection, type ServerConnection } from './server-connection.js';
import type { OpcuaGatewayEvents, ServerStatus } from './server-status.js';
import { createValueBacklog, type ValueBacklog } from './value-backlog.js';

export type { OpcuaGatewayEvents, ServerStatus } from './server-status.js';

export interface OpcuaGatewayOptions {
  /** The checked mapping (OPCUA_CONFIG_FILE, parse-opcua-config.ts). */
  config: OpcuaGatewayConfig;
  /** The gateway's PKI folder, created on first start. */
  pkiDir: string;
  /** Values held per server while the queue cannot take them; beyond, the oldest are dropped and counted. @defaultValue 10000 */
  backlogMaxValues: number;
}

export interface OpcuaGatewayDeps {
  /** Where values go: an OPC UA value is delivered once its batch is a job in Redis. */
  batcher: EnvelopeBatcher;
}

export interface OpcuaGateway {
  readonly events: EventEmitter<OpcuaGatewayEvents>;
  /** The gateway's certificate: servers must trust it for Sign and SignAndEncrypt. */
  readonly certificateFile: string;
  readonly pkiDir: string;
  /** One entry per server: connection state, nodes, value counters (/readyz details). */
  status(): ServerStatus[];
  close(): Promise<void>;
}

/**
 * The OPC UA gateway: opens its PKI and keeps one connection per server
 * (server-connection.ts), each feeding its own bounded backlog in front of the shared
 * envelope batcher. The mapping's devices are registered before (register-devices.ts).
 */
export async function createOpcuaGateway(options: OpcuaGatewayOptions, deps: OpcuaGatewayDeps): Promise<OpcuaGateway> {
  const pki = await openGatewayPki({ pkiDir: options.pkiDir });
  const events = new EventEmitter<OpcuaGatewayEvents>();
  const parts: Array<{ connection: ServerConnection; backlog: ValueBacklog }> = [];
  for (const server of options.config.servers) {
    const backlog = createValueBacklog({ maxValues: options.backlogMaxValues }, {
      batcher: deps.batcher,
      dropped: (count, why) => events.emit('dropped', { server: server.name, count, why }),
      queueFailed: (error) => events.emit('queueFailed', { server: server.name, error: error.message }),
      queueRecovered: () => events.emit('queueRecovered', { server: server.name }),
    });
    const connection = createServerConnection(server, {
      pki,
      events,
      push: (envelope) => backlog.push(envelope),
      backlog: () => ({ ...backlog.stats, size: backlog.size }),
    });
    parts.push({ connection, backlog });
  }

  let closing: Promise<void> | undefined;
  return {
    events,
    certificateFile: pki.certificateFile,
    pkiDir: pki.pkiDir,
    status: () => parts.map(({ connection }) => connection.status()),
    close() {
      // Intake first (sessions), then what was received goes to the queue, then the PKI.
      closing ??= (async () => {
        const results = await Promise.allSettled(parts.map(({ connection }) => connection.close()));
        results.push(...(await Promise.allSettled(parts.map(({ backlog }) => backlog.close()))));
        results.push(...(await Promise.allSettled([deps.batcher.close(), pki.close()])));
        const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
        if (failures.length > 0) throw new AggregateError(failures, 'closing the OPC UA gateway failed');
      })();
      return closing;
    },
  };
}
