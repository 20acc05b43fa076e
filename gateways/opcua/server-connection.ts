import type { EventEmitter } from 'node:events';
import type { ClientSession, OPCUAClient } from 'node-opcua';
import type { RawEnvelope } from '../../contracts/envelope.js';
import type { OpcuaNodeMapping, OpcuaServerConfig } from './opcua-config.js';
import type { GatewayPki } from './opcua-pki.js';
import { opcuaEnvelope } from './opcua-value.js';
import { startMonitoring, type Monitoring } from './monitor-nodes.js';
import { resolveNodes, type NodeFailure } from './resolve-nodes.js';
import { closeQuietly, ConnectRefusedError, createClient, ExplainedError, explainFailure, identityOf, withTimeout } from './session-steps.js';
import type { ConnectionState, NodeReport, OpcuaGatewayEvents, ServerStatus } from './server-status.js';

/**
 * One OPC UA server, kept connected. Every way of losing it — the server restarting,
 * the network going, the session expiring, a subscription dying, or the watchdog
 * hearing nothing for too long — ends in the same place: tear the client down, wait
 * (capped exponential backoff with jitter), and build client, session, node checks and
 * subscriptions again from the mapping. One path is easier to trust than node-opcua's
 * several repair paths, and a server that restarted has lost our session anyway.
 */

export interface ServerConnectionDeps {
  pki: GatewayPki;
  events: EventEmitter<OpcuaGatewayEvents>;
  /** Hands a value to the backlog; must not block. */
  push(envelope: RawEnvelope): void;
  /** The backlog's counters for this server. */
  backlog(): { delivered: number; dropped: number; size: number };
}

export interface ServerConnection {
  status(): ServerStatus;
  close(): Promise<void>;
}

const WATCHDOG_TICK_MS = 500;
const CLOSE_TIMEOUT_MS = 2000;

export function createServerConnection(server: OpcuaServerConfig, deps: ServerConnectionDeps): ServerConnection {
  let state: ConnectionState = 'connecting';
  let since = Date.now();
  let lastError: string | undefined;
  let failedAttempts = 0;
  let reconnects = 0;
  let lastReconnectMs: number | undefined;
  let downSince: number | undefined;
  let lastValueAt: number | undefined;
  let lastAliveAt = Date.now();
  let received = 0;
  let generation = 0;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let current: { client?: OPCUAClient; session?: ClientSession; monitoring?: Monitoring } = {};
  let nodeReports: NodeReport[] = [];
  let attemptLost: string | undefined;
  const failedBefore = new Map<string, string>();

  const setState = (next: ConnectionState, error?: string) => {
    if (next === state) return;
    const previous = state;
    state = next;
    since = Date.now();
    deps.events.emit('state', { server: server.name, state: next, previous, ...(error === undefined ? {} : { error }) });
  };

  function backoffMs(attempt: number): number {
    const base = Math.min(server.reconnectMaxDelayMs, server.reconnectInitialDelayMs * 2 ** Math.max(0, attempt - 1));
    // ±20 % jitter: gateways that lost the same server do not all knock at the same instant.
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  function schedule(delayMs: number): void {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void attempt(), delayMs);
    retryTimer.unref();
  }

  function teardown(politely: boolean): Promise<void> {
    const { client, session, monitoring } = current;
    current = {};
    monitoring?.stop();
    return closeQuietly(client, politely ? session : undefined, CLOSE_TIMEOUT_MS);
  }

  function lost(mine: number, reason: string): void {
    if (mine !== generation || closed) return;
    if (state !== 'connected') {
      // During an attempt: the attempt notices when it is done and fails with this reason.
      attemptLost ??= reason;
      return;
    }
    generation += 1;
    downSince = Date.now();
    lastError = reason;
    deps.events.emit('lost', { server: server.name, reason });
    setState('reconnecting', reason);
    void teardown(false);
    schedule(backoffMs(1));
  }

  /** Records what is monitored and what failed; returns the number of failed nodes. */
  function reportNodes(monitoring: Monitoring, failures: readonly NodeFailure[]): number {
    const reportOf = (mapping: OpcuaNodeMapping) => ({ node: mapping.label, device: mapping.device, metric: mapping.metric });
    nodeReports = [
      ...monitoring.monitored.map(({ node, mode, fallback }) => ({
        ...reportOf(node.mapping), nodeId: node.nodeIdText, mode, ...(fallback === undefined ? {} : { reason: fallback }),
      })),
      ...failures.map(({ mapping, reason }) => ({ ...reportOf(mapping), reason })),
    ];
    for (const { mapping, reason } of failures) {
      // Reported once per cause, not at every reconnection.
      if (failedBefore.get(mapping.label) === reason) continue;
      failedBefore.set(mapping.label, reason);
      deps.events.emit('nodeFailed', { server: server.name, ...reportOf(mapping), reason });
    }
    return failures.length;
  }

  async function attempt(): Promise<void> {
    if (closed) return;
    const mine = ++generation;
    attemptLost = undefined;
    let step: 'connect' | 'session' | 'monitor' = 'connect';
    try {
      if (failedAttempts > 0) await deps.pki.reload();
      if (server.serverCertificateFile !== undefined) {
        const file = server.serverCertificateFile;
        // Read at every attempt: the server may create its certificate after the gateway starts.
        await deps.pki.trustCertificateFile(file).catch((error: NodeJS.ErrnoException) => {
          throw new ExplainedError(`security.serverCertificate ${file} cannot be read (${error.code ?? error.message})`);
        });
      }
      const client = createClient(server, deps.pki);
      current = { client };
      client.on('close', (error) => lost(mine, `connection closed${error ? `: ${error.message}` : ''}`));
      client.on('connection_lost', () => lost(mine, 'connection lost'));
      await withTimeout(client.connect(server.endpointUrl), server.requestTimeoutMs, 'connecting');
      step = 'session';
      const session = await withTimeout(client.createSession(await identityOf(server)), server.requestTimeoutMs, 'creating the session');
      current.session = session;
      session.on('session_closed', (status) => lost(mine, `session closed by the server (${status.toString()})`));
      session.on('keepalive_failure', () => lost(mine, 'session keep-alive failed'));
      step = 'monitor';
      const { resolved, failed } = await withTimeout(resolveNodes(session, server.nodes), server.requestTimeoutMs, 'checking the nodes');
      const monitoring = await withTimeout(startMonitoring(session, server, resolved, {
        value: (node, dataValue) => {
          if (mine !== generation) return;
          const now = Date.now();
          lastAliveAt = now;
          lastValueAt = now;
          received += 1;
          const envelope = opcuaEnvelope(node.mapping, node.nodeIdText, dataValue, now);
          deps.push(envelope);
          deps.events.emit('value', envelope);
        },
        alive: () => {
          if (mine === generation) lastAliveAt = Date.now();
        },
        lost: (reason) => lost(mine, reason),
      }), server.requestTimeoutMs * 2, 'creating the subscriptions');
      if (mine !== generation || closed) {
        monitoring.stop();
        return;
      }
      current.monitoring = monitoring;
      if (attemptLost !== undefined) throw new Error(attemptLost);
      const failedNodes = reportNodes(monitoring, [...failed, ...monitoring.failed]);
      lastAliveAt = Date.now();
      const attempts = failedAttempts + 1;
      const downtimeMs = downSince === undefined ? undefined : Date.now() - downSince;
      if (downtimeMs !== undefined) {
        reconnects += 1;
        lastReconnectMs = downtimeMs;
      }
      failedAttempts = 0;
      downSince = undefined;
      lastError = undefined;
      setState('connected');
      const polled = monitoring.monitored.filter((entry) => entry.mode === 'poll').length;
      deps.events.emit('connected', {
        server: server.name, attempts, ...(downtimeMs === undefined ? {} : { downtimeMs }),
        monitored: monitoring.monitored.length - polled, polled, failed: failedNodes,
      });
    } catch (error) {
      if (mine !== generation || closed) return;
      generation += 1;
      await teardown(false);
      const explained = explainFailure(error, server, deps.pki, step);
      failedAttempts += 1;
      lastError = explained.message;
      downSince ??= state === 'connecting' ? undefined : Date.now();
      // Wrong credentials or trust do not heal by themselves: knock seldom (some servers lock accounts).
      const retryInMs = explained instanceof ConnectRefusedError ? server.reconnectMaxDelayMs : backoffMs(failedAttempts);
      deps.events.emit('attemptFailed', { server: server.name, attempt: failedAttempts, error: explained.message, retryInMs });
      setState(explained instanceof ConnectRefusedError ? 'failed' : (reconnects > 0 || downSince !== undefined ? 'reconnecting' : 'connecting'), explained.message);
      schedule(retryInMs);
    }
  }

  const watchdog = setInterval(() => {
    const monitoring = current.monitoring;
    if (state !== 'connected' || monitoring === undefined) return;
    const limitMs = server.watchdogKeepAlives * monitoring.quietPeriodMs;
    const silentMs = Date.now() - lastAliveAt;
    if (silentMs > limitMs) lost(generation, `watchdog: nothing from the server for ${silentMs} ms (limit ${limitMs} ms)`);
  }, WATCHDOG_TICK_MS);
  watchdog.unref();
  schedule(0);

  let closing: Promise<void> | undefined;
  return {
    status() {
      const failedNodes = nodeReports.filter((report) => report.mode === undefined);
      const backlog = deps.backlog();
      return {
        name: server.name,
        endpointUrl: server.endpointUrl,
        state,
        since: new Date(since).toISOString(),
        ...(lastError === undefined ? {} : { lastError }),
        failedAttempts,
        reconnects,
        ...(lastReconnectMs === undefined ? {} : { lastReconnectMs }),
        ...(lastValueAt === undefined ? {} : { lastValueAt: new Date(lastValueAt).toISOString() }),
        nodes: {
          monitored: nodeReports.filter((report) => report.mode === 'subscription').length,
          polled: nodeReports.filter((report) => report.mode === 'poll').length,
          failed: failedNodes.length,
        },
        failedNodes,
        values: { received, delivered: backlog.delivered, dropped: backlog.dropped, backlog: backlog.size },
      };
    },
    close() {
      closing ??= (async () => {
        closed = true;
        generation += 1;
        clearTimeout(retryTimer);
        clearInterval(watchdog);
        await teardown(true);
        setState('closed');
      })();
      return closing;
    },
  };
}
