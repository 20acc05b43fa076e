import {
  AttributeIds, DataChangeFilter, DataChangeTrigger, DeadbandType, StatusCodes, TimestampsToReturn,
  type ClientSession, type ClientSubscription, type DataValue, type StatusCode,
} from 'node-opcua';
import type { OpcuaServerConfig } from './opcua-config.js';
import { inSlices, OPERATIONS_PER_REQUEST, type NodeFailure, type ResolvedNode } from './resolve-nodes.js';

/**
 * Monitors the resolved nodes of one session: monitored items in the mapping's
 * subscriptions, or reads on a timer for nodes the mapping polls and for nodes the
 * server would not monitor (polling as the fallback for servers that cannot subscribe).
 * Items with equal parameters are created in one CreateMonitoredItems request, and each
 * item's own result decides whether that node is monitored, polled or failed.
 */

export interface MonitorHandlers {
  value(node: ResolvedNode, dataValue: DataValue): void;
  /** A keep-alive, a notification or a poll answer: the server is alive (the watchdog's food). */
  alive(): void;
  /** A subscription or poll failed in a way only a new session repairs. */
  lost(reason: string): void;
}

export interface MonitoredNode {
  node: ResolvedNode;
  mode: 'subscription' | 'poll';
  /** Why a subscribed node is polled instead. */
  fallback?: string;
}

export interface Monitoring {
  monitored: readonly MonitoredNode[];
  failed: readonly NodeFailure[];
  /** The longest time the server may stay silent while healthy (keep-alive period or poll interval). */
  quietPeriodMs: number;
  stop(): void;
}

/** Answers that mean "this server does not do subscriptions (or no more of them)": poll instead. */
const CANNOT_SUBSCRIBE = [StatusCodes.BadServiceUnsupported, StatusCodes.BadTooManySubscriptions, StatusCodes.BadTooManyMonitoredItems];

function cannotSubscribe(status: StatusCode | undefined): boolean {
  return status !== undefined && CANNOT_SUBSCRIBE.some((code) => status.equals(code));
}

function statusOfError(error: unknown): StatusCode | undefined {
  const candidate = (error as { response?: { responseHeader?: { serviceResult?: StatusCode } } }).response?.responseHeader?.serviceResult;
  if (candidate !== undefined) return candidate;
  const message = (error as Error).message ?? '';
  return CANNOT_SUBSCRIBE.find((code) => message.includes(code.name));
}

function filterOf(node: ResolvedNode): DataChangeFilter | undefined {
  const deadband = node.mapping.deadband;
  if (deadband === undefined) return undefined;
  return new DataChangeFilter({
    trigger: DataChangeTrigger.StatusValue,
    deadbandType: deadband.type === 'percent' ? DeadbandType.Percent : DeadbandType.Absolute,
    deadbandValue: deadband.value,
  });
}

function watchSubscription(subscription: ClientSubscription, name: string, handlers: MonitorHandlers, stopped: () => boolean): void {
  subscription.on('keepalive', () => handlers.alive());
  subscription.on('received_notifications', () => handlers.alive());
  subscription.on('terminated', () => !stopped() && handlers.lost(`subscription "${name}" was terminated by the server`));
  subscription.on('status_changed', (status) => !stopped() && !status.isGood() && handlers.lost(`subscription "${name}" ended: ${status.toString()}`));
  subscription.on('internal_error', (error) => !stopped() && handlers.lost(`subscription "${name}": ${error.message}`));
  subscription.on('error', (error) => !stopped() && handlers.lost(`subscription "${name}": ${error.message}`));
}

async function subscribe(session: ClientSession, server: OpcuaServerConfig, name: string, nodes: ResolvedNode[], handlers: MonitorHandlers, stopped: () => boolean) {
  const settings = server.subscriptions.get(name)!;
  const subscription = await session.createSubscription2({
    requestedPublishingInterval: settings.publishingIntervalMs,
    requestedMaxKeepAliveCount: settings.maxKeepAliveCount,
    // Part 4 §5.13.2: the lifetime must be at least three keep-alive periods.
    requestedLifetimeCount: Math.max(3 * settings.maxKeepAliveCount, Math.ceil(server.sessionTimeoutMs / settings.publishingIntervalMs)),
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
    priority: 10,
  });
  watchSubscription(subscription, name, handlers, stopped);
  const monitored: MonitoredNode[] = [];
  const failed: NodeFailure[] = [];
  const groups = new Map<string, ResolvedNode[]>();
  for (const node of nodes) {
    const { samplingIntervalMs, queueSize, deadband } = node.mapping;
    const key = JSON.stringify([samplingIntervalMs, queueSize, deadband ?? null]);
    const members = groups.get(key) ?? [];
    // A full group becomes its own request (servers cap MaxMonitoredItemsPerCall).
    if (members.length === OPERATIONS_PER_REQUEST) groups.set(`${key}#${groups.size}`, members.splice(0));
    members.push(node);
    groups.set(key, members);
  }
  for (const group of groups.values()) {
    const first = group[0]!.mapping;
    const filter = filterOf(group[0]!);
    const items = await subscription.monitorItems(
      group.map((node) => ({ nodeId: node.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: first.samplingIntervalMs, queueSize: first.queueSize, discardOldest: true, ...(filter === undefined ? {} : { filter }) },
      TimestampsToReturn.Both,
    );
    items.on('changed', (_item, dataValue, index) => {
      const node = group[index];
      if (node !== undefined && !stopped()) handlers.value(node, dataValue);
    });
    group.forEach((node, index) => {
      const status = items.monitoredItems[index]?.statusCode;
      if (status?.isGood()) monitored.push({ node, mode: 'subscription' });
      else if (cannotSubscribe(status)) monitored.push({ node, mode: 'poll', fallback: `the server refused to monitor it (${status!.toString()})` });
      else failed.push({ mapping: node.mapping, reason: `${node.nodeIdText}: the server refused to monitor it (${status?.toString() ?? 'no result'})` });
    });
  }
  return { monitored, failed, quietMs: subscription.publishingInterval * subscription.maxKeepAliveCount };
}

function poll(session: ClientSession, intervalMs: number, nodes: readonly ResolvedNode[], handlers: MonitorHandlers, stopped: () => boolean): NodeJS.Timeout {
  const last = new Map<ResolvedNode, string>();
  let reading = false;
  const tick = () => {
    if (reading || stopped()) return;
    reading = true;
    inSlices(nodes, (slice) => session.read(slice.map((node) => ({ nodeId: node.nodeId, attributeId: AttributeIds.Value })), 0)).then(
      (dataValues) => {
        reading = false;
        if (stopped()) return;
        handlers.alive();
        dataValues.forEach((dataValue, index) => {
          const node = nodes[index]!;
          // A read returns the current value again and again: only a new sample is a reading.
          const signature = `${dataValue.sourceTimestamp?.getTime() ?? ''}|${dataValue.statusCode.value}|${String(dataValue.value.value)}`;
          if (dataValue.sourceTimestamp !== null && last.get(node) === signature) return;
          last.set(node, signature);
          handlers.value(node, dataValue);
        });
      },
      (error: Error) => {
        reading = false;
        if (!stopped()) handlers.lost(`polling read failed: ${error.message}`);
      },
    );
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return timer;
}

export async function startMonitoring(session: ClientSession, server: OpcuaServerConfig, nodes: readonly ResolvedNode[], handlers: MonitorHandlers): Promise<Monitoring> {
  let isStopped = false;
  const stopped = () => isStopped;
  const monitored: MonitoredNode[] = [];
  const failed: NodeFailure[] = [];
  const quietPeriods: number[] = [];
  const bySubscription = new Map<string, ResolvedNode[]>();
  for (const node of nodes.filter((candidate) => candidate.mapping.subscription !== undefined)) {
    bySubscription.set(node.mapping.subscription!, [...(bySubscription.get(node.mapping.subscription!) ?? []), node]);
  }
  for (const [name, members] of bySubscription) {
    try {
      const result = await subscribe(session, server, name, members, handlers, stopped);
      monitored.push(...result.monitored);
      failed.push(...result.failed);
      quietPeriods.push(result.quietMs);
    } catch (error) {
      const status = statusOfError(error);
      if (!cannotSubscribe(status)) throw error;
      monitored.push(...members.map((node) => ({ node, mode: 'poll' as const, fallback: `the server cannot subscribe (${status!.toString()})` })));
    }
  }
  for (const node of nodes.filter((candidate) => candidate.mapping.pollIntervalMs !== undefined)) monitored.push({ node, mode: 'poll' });

  const pollGroups = new Map<number, ResolvedNode[]>();
  for (const { node } of monitored.filter((entry) => entry.mode === 'poll')) {
    const intervalMs = node.mapping.pollIntervalMs ?? server.subscriptions.get(node.mapping.subscription ?? '')?.publishingIntervalMs ?? node.mapping.samplingIntervalMs;
    pollGroups.set(intervalMs, [...(pollGroups.get(intervalMs) ?? []), node]);
  }
  const timers = [...pollGroups].map(([intervalMs, members]) => {
    quietPeriods.push(intervalMs + server.requestTimeoutMs);
    return poll(session, intervalMs, members, handlers, stopped);
  });
  return {
    monitored,
    failed,
    quietPeriodMs: Math.max(1000, ...quietPeriods),
    stop() {
      isStopped = true;
      timers.forEach((timer) => clearInterval(timer));
    },
  };
}
