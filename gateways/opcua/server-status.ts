import type { RawEnvelope } from '../../contracts/envelope.js';

/**
 * What the gateway tells about each server: its typed events (the process entry turns
 * them into log lines, runtime/observe-stack.ts) and the status snapshot behind /readyz.
 */

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface NodeReport {
  /** NodeId or browse path as the mapping writes it. */
  node: string;
  device: string;
  metric: string;
  /** The resolved NodeId, once the server answered. */
  nodeId?: string;
  mode?: 'subscription' | 'poll';
  /** Why a subscribed node is polled, or why a node failed. */
  reason?: string;
}

export interface ServerStatus {
  name: string;
  endpointUrl: string;
  state: ConnectionState;
  /** When the state was entered, ISO 8601. */
  since: string;
  /** Why the last attempt failed or the connection was lost. */
  lastError?: string;
  /** Connection attempts since the last success. */
  failedAttempts: number;
  /** Times the connection was lost and made again. */
  reconnects: number;
  /** How long the last reconnection took: from the loss to monitoring again, ms. */
  lastReconnectMs?: number;
  /** Last value from this server, ISO 8601. */
  lastValueAt?: string;
  nodes: { monitored: number; polled: number; failed: number };
  failedNodes: NodeReport[];
  values: {
    /** From the server since start. */
    received: number;
    /** In the queue (a BullMQ job in Redis). */
    delivered: number;
    /** Given up: backlog overflow while the queue was away, or not delivered at shutdown. */
    dropped: number;
    /** Waiting for the queue now. */
    backlog: number;
  };
}

export interface OpcuaGatewayEvents {
  state: [change: { server: string; state: ConnectionState; previous: ConnectionState; error?: string }];
  /** Monitoring runs: after the first connection and after every reconnection. */
  connected: [info: { server: string; attempts: number; downtimeMs?: number; monitored: number; polled: number; failed: number }];
  /** The connection, session or a subscription is gone; a reconnection follows. */
  lost: [info: { server: string; reason: string }];
  /** A connection attempt failed; the next follows after `retryInMs`. */
  attemptFailed: [info: { server: string; attempt: number; error: string; retryInMs: number }];
  /** A mapped node cannot be monitored; reported when it first fails or its reason changes. */
  nodeFailed: [report: NodeReport & { server: string; reason: string }];
  /** Values were given up (see ServerStatus.values.dropped). */
  dropped: [info: { server: string; count: number; why: 'overflow' | 'shutdown' }];
  queueFailed: [info: { server: string; error: string }];
  queueRecovered: [info: { server: string }];
  /** Every value as it is handed to the queue, for tests and diagnostics. */
  value: [envelope: RawEnvelope];
  /** node-opcua's own warnings and errors, when the process routes them here (runtime/opcua-role.ts). */
  library: [entry: { level: 'warn' | 'error'; message: string }];
}
