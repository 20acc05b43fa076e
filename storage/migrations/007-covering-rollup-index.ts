import type { Migration } from '../migration.js';
import { INTERNAL_SCHEMA } from './plain-partitioning.js';

/**
 * Plain PostgreSQL: the 1-hour rollup read from its index alone. The fold writes each
 * hour's rows of every series together, so one series' buckets lie one per heap page: a
 * month of one series in 1-hour buckets read 720 heap pages for 720 rows (docs/storage.md,
 * "Bucketed aggregates over a month"). With the values in the index (INCLUDE), the same
 * answer is an index-only scan of a few pages wherever the visibility map is set, which
 * autovacuum does for every page the fold no longer touches (all but the current hour's).
 *
 * The primary key stays the fold's conflict target; this index is the readers'. TimescaleDB
 * modes keep their continuous-aggregate index: the real-time aggregate unions in raw
 * buckets and its materialised rows sit in hypertable chunks the extension manages.
 */
export const coveringRollupIndex: Migration = {
  version: 7,
  name: 'covering index on the 1-hour rollup (plain PostgreSQL)',
  async up(tx, storage) {
    if (storage.timescale) return;
    await tx.query(`
      CREATE INDEX rollup_1h_series_bucket_values ON ${INTERNAL_SCHEMA}.rollup_1h (device_num, metric_num, bucket)
      INCLUDE (count, sum, min, max, first_time, first_value, last_time, last_value)`);
  },
};
