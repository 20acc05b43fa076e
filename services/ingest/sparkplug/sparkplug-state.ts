import type { Queryable } from '../../../storage/database.js';
import { registerChildDevices, setChildrenOffline, setDeviceOnline } from '../../../storage/ingest-devices-store.js';
import {
  loadSparkplugBirths, lockSparkplugEdges, saveSparkplugBirths, saveSparkplugEdges, type StoredBirth,
} from '../../../storage/sparkplug-store.js';
import type { EdgeOrder } from './sparkplug-order.js';
import type { BirthState, EdgeState, SparkplugEffect } from './sparkplug-session.js';

/**
 * The Sparkplug state a job works on: the rows of its edge nodes, locked for the job's
 * transaction, and all their births. Changes are written back in the same transaction
 * as the readings, so a retried job starts from exactly what the last commit left.
 */
export interface SparkplugWorkingSet {
  edges: Map<string, EdgeState>;
  /** By edge node, then device ('' for the node). */
  births: Map<string, Map<string, BirthState>>;
  changedBirths: Map<string, Set<string>>;
  effects: SparkplugEffect[];
}

function orderOf(value: unknown): EdgeOrder {
  const state = value as Partial<EdgeOrder> | null;
  return { current: state?.current ?? undefined, skipped: Array.isArray(state?.skipped) ? state.skipped : [] };
}

export async function openSparkplugState(tx: Queryable, edgeNodeIds: readonly string[]): Promise<SparkplugWorkingSet> {
  const rows = await lockSparkplugEdges(tx, edgeNodeIds);
  const edges = new Map<string, EdgeState>();
  for (const [id, row] of rows) {
    edges.set(id, { edgeNodeId: id, groupId: row.groupId, bdSeq: row.bdSeq, lastSeq: row.lastSeq, order: orderOf(row.orderState) });
  }
  const births = new Map<string, Map<string, BirthState>>(edgeNodeIds.map((id) => [id, new Map()]));
  for (const birth of await loadSparkplugBirths(tx, edgeNodeIds)) {
    births.get(birth.edgeNodeId)?.set(birth.deviceId, {
      born: birth.born,
      aliases: (birth.aliases ?? {}) as BirthState['aliases'],
      names: (birth.names ?? {}) as BirthState['names'],
    });
  }
  return { edges, births, changedBirths: new Map(edgeNodeIds.map((id) => [id, new Set()])), effects: [] };
}

/** Writes device registrations, online state and the edge nodes' state, in the order they happened. */
export async function saveSparkplugState(tx: Queryable, state: SparkplugWorkingSet): Promise<void> {
  for (const effect of state.effects) {
    if (effect.kind === 'register-child') {
      const device = effect.deviceId.slice(effect.edgeNodeId.length + 1);
      await registerChildDevices(tx, [{ id: effect.deviceId, parentId: effect.edgeNodeId, name: `Sparkplug device ${device} of ${effect.edgeNodeId}` }]);
    } else if (effect.kind === 'online') {
      await setDeviceOnline(tx, effect.deviceId, effect.online, new Date(effect.atMs));
    } else {
      await setChildrenOffline(tx, effect.edgeNodeId, new Date(effect.atMs));
    }
  }
  const births: StoredBirth[] = [];
  for (const [edgeNodeId, keys] of state.changedBirths) {
    for (const deviceId of keys) {
      const birth = state.births.get(edgeNodeId)?.get(deviceId);
      if (birth !== undefined) births.push({ edgeNodeId, deviceId, born: birth.born, aliases: birth.aliases, names: birth.names });
    }
  }
  await saveSparkplugBirths(tx, births);
  await saveSparkplugEdges(tx, [...state.edges.values()].map((edge) => ({
    edgeNodeId: edge.edgeNodeId, groupId: edge.groupId, bdSeq: edge.bdSeq, lastSeq: edge.lastSeq, orderState: edge.order,
  })));
}
