import type { Migration } from '../migration.js';
import { createPlainRollups } from './plain-rollups.js';
import { createTimescaleRollups } from './timescale-rollups.js';

/**
 * 1-minute and 1-hour rollups, compression settings, the settings record maintenance
 * keeps, and `insert_readings`, the one write path. TimescaleDB: continuous aggregates
 * and columnstore settings (policies are set from the configuration at start, not
 * here). Plain PostgreSQL: partitioned rollup tables the writer keeps, and the
 * partition functions. The relations in `public` are the same in both modes.
 */
export const rollupsAndRetention: Migration = {
  version: 2,
  name: 'rollups, compression and retention',
  async up(tx, storage) {
    await tx.query(`
      CREATE TABLE storage_settings (
        -- One row: the settings the last process to start applied (see storage-settings.ts).
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        chunk_interval interval NOT NULL DEFAULT '1 day',
        raw_retention interval,
        rollup_1m_retention interval,
        rollup_1h_retention interval,
        compress_after interval,
        maintenance_interval interval NOT NULL DEFAULT '1 minute',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await tx.query('INSERT INTO storage_settings DEFAULT VALUES');
    if (storage.timescale) await createTimescaleRollups(tx, storage.timescaleVersion);
    else await createPlainRollups(tx);
  },
};
