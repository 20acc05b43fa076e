import type { Migration } from '../migration.js';

/**
 * Issue 4: vendor profiles, child devices, online state and Sparkplug B session state.
 *
 * Sparkplug state lives in the database, not in a worker's memory: workers are
 * stateless replicas, and the BIRTH that defines an alias may be applied by another
 * worker than the DATA that uses it. `sparkplug_edges` is small and written on every
 * message (seq, order); `sparkplug_births` holds the alias maps and is written only by
 * BIRTH and DEATH messages.
 */
export const deviceProfilesAndSparkplug: Migration = {
  version: 3,
  name: 'device profiles, child devices and Sparkplug state',
  async up(tx) {
    // profile: the vendor profile (DEVICE_PROFILES_FILE) its telemetry is decoded with.
    // parent_id: the edge node of a Sparkplug device {edge}.{device}.
    // online: set by session-aware protocols (Sparkplug BIRTH/DEATH); NULL when never reported.
    await tx.query(`
      ALTER TABLE devices
        ADD COLUMN profile text,
        ADD COLUMN parent_id text COLLATE "C",
        ADD COLUMN online boolean,
        ADD COLUMN online_changed_at timestamptz`);
    await tx.query(`CREATE INDEX devices_by_parent ON devices (parent_id) WHERE parent_id IS NOT NULL`);
    await tx.query(`
      CREATE TABLE sparkplug_edges (
        edge_node_id text COLLATE "C" PRIMARY KEY,
        group_id text,
        bd_seq integer,
        last_seq smallint,
        -- services/ingest/sparkplug/sparkplug-order.ts: the last applied message's place in its connection.
        order_state jsonb NOT NULL DEFAULT '{"current": null, "skipped": []}',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await tx.query(`
      CREATE TABLE sparkplug_births (
        edge_node_id text COLLATE "C" NOT NULL,
        -- '' for the edge node itself, else the Sparkplug device id.
        device_id text NOT NULL,
        born boolean NOT NULL,
        aliases jsonb NOT NULL,
        names jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (edge_node_id, device_id)
      )`);
  },
};
