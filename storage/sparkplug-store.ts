import type { Queryable } from './database.js';

/**
 * Sparkplug B session state (migration 003), read and written inside the ingest job's
 * transaction. Edge rows are locked FOR UPDATE, so two workers never apply messages of
 * one edge node at once.
 */

export interface StoredEdge {
  edgeNodeId: string;
  groupId: string | undefined;
  bdSeq: number | undefined;
  lastSeq: number | undefined;
  /** Opaque to storage: services/ingest/sparkplug/sparkplug-order.ts. */
  orderState: unknown;
}

export interface StoredBirth {
  edgeNodeId: string;
  /** '' for the edge node itself. */
  deviceId: string;
  born: boolean;
  aliases: unknown;
  names: unknown;
}

/** Creates missing rows, then locks and reads the edge nodes' rows. */
export async function lockSparkplugEdges(tx: Queryable, edgeNodeIds: readonly string[]): Promise<Map<string, StoredEdge>> {
  if (edgeNodeIds.length === 0) return new Map();
  // Rows are created and locked in one order in every job, so two jobs cannot deadlock.
  const sorted = [...new Set(edgeNodeIds)].sort();
  await tx.query(
    `INSERT INTO sparkplug_edges (edge_node_id) SELECT id FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n
     ON CONFLICT (edge_node_id) DO NOTHING`,
    [sorted],
  );
  const result = await tx.query<{ edge_node_id: string; group_id: string | null; bd_seq: number | null; last_seq: number | null; order_state: unknown }>(
    `SELECT edge_node_id, group_id, bd_seq, last_seq, order_state FROM sparkplug_edges
     WHERE edge_node_id = ANY($1::text[]) ORDER BY edge_node_id FOR UPDATE`,
    [sorted],
  );
  return new Map(result.rows.map((row) => [row.edge_node_id, {
    edgeNodeId: row.edge_node_id,
    groupId: row.group_id ?? undefined,
    bdSeq: row.bd_seq ?? undefined,
    lastSeq: row.last_seq ?? undefined,
    orderState: typeof row.order_state === 'string' ? JSON.parse(row.order_state) : row.order_state,
  }]));
}

export async function saveSparkplugEdges(tx: Queryable, edges: readonly StoredEdge[]): Promise<void> {
  for (const edge of edges) {
    await tx.query(
      `UPDATE sparkplug_edges SET group_id = $2, bd_seq = $3, last_seq = $4, order_state = $5::jsonb, updated_at = now()
       WHERE edge_node_id = $1`,
      [edge.edgeNodeId, edge.groupId ?? null, edge.bdSeq ?? null, edge.lastSeq ?? null, JSON.stringify(edge.orderState)],
    );
  }
}

/** Births of the given edge nodes (node and devices). */
export async function loadSparkplugBirths(tx: Queryable, edgeNodeIds: readonly string[]): Promise<StoredBirth[]> {
  if (edgeNodeIds.length === 0) return [];
  const result = await tx.query<{ edge_node_id: string; device_id: string; born: boolean; aliases: unknown; names: unknown }>(
    `SELECT edge_node_id, device_id, born, aliases, names FROM sparkplug_births WHERE edge_node_id = ANY($1::text[])`,
    [edgeNodeIds],
  );
  const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return result.rows.map((row) => ({
    edgeNodeId: row.edge_node_id, deviceId: row.device_id, born: row.born, aliases: json(row.aliases), names: json(row.names),
  }));
}

export async function saveSparkplugBirths(tx: Queryable, births: readonly StoredBirth[]): Promise<void> {
  for (const birth of births) {
    await tx.query(
      `INSERT INTO sparkplug_births (edge_node_id, device_id, born, aliases, names) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
       ON CONFLICT (edge_node_id, device_id) DO UPDATE
       SET born = EXCLUDED.born, aliases = EXCLUDED.aliases, names = EXCLUDED.names, updated_at = now()`,
      [birth.edgeNodeId, birth.deviceId, birth.born, JSON.stringify(birth.aliases), JSON.stringify(birth.names)],
    );
  }
}
