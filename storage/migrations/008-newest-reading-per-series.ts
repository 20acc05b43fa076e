import type { Migration } from '../migration.js';
import { writeReadingsFunction } from './plain-rollups.js';
import { insertReadingsFunction } from './timescale-rollups.js';

/**
 * Each series' newest reading kept beside it in `reading_series`, so the city-wide
 * snapshot reads one small table instead of probing the readings index once per series
 * (5 000 probes for 1 000 stations of 5 metrics: 69 ms in storage, 91 ms through the API
 * on the 216-million-reading benchmark history, docs/storage.md "Latest values").
 *
 * `keep_newest_readings` takes a batch's rows and upserts the newest per series, only
 * when newer than the one kept (a late reading never replaces a later one; at equal times
 * the first delivery wins, as in `readings`), in key order so concurrent writers of the
 * same series wait for each other rather than deadlock. It also registers a series on its
 * first reading, which migration 006 did inside `insert_readings`: the writer calls it as
 * its transaction's last statement (storage/readings-store.ts), because the row locks it
 * takes make every other batch of the same series wait until this one commits.
 *
 * All the batch's rows, not only those newly inserted: a row that was already stored is
 * never newer than the newest kept, which its own batch set in its own transaction.
 */
const KEEP_NEWEST_FUNCTION = `
  CREATE FUNCTION keep_newest_readings(
    p_time timestamptz[], p_device integer[], p_metric smallint[],
    p_value double precision[], p_quality smallint[], p_source_quality integer[]) RETURNS void
  LANGUAGE sql AS $fn$
    INSERT INTO reading_series AS s (device_num, metric_num, last_time, last_value, last_quality, last_source_quality)
    SELECT DISTINCT ON (r.device_num, r.metric_num) r.device_num, r.metric_num, r.time, r.value, r.quality, r.source_quality
    FROM unnest(p_time, p_device, p_metric, p_value, p_quality, p_source_quality) WITH ORDINALITY
      AS r(time, device_num, metric_num, value, quality, source_quality, ord)
    ORDER BY r.device_num, r.metric_num, r.time DESC, r.ord
    ON CONFLICT (device_num, metric_num) DO UPDATE SET
      last_time = excluded.last_time, last_value = excluded.last_value,
      last_quality = excluded.last_quality, last_source_quality = excluded.last_source_quality
    WHERE s.last_time IS NULL OR s.last_time < excluded.last_time
  $fn$`;

/**
 * Sets the newest reading of every registered series from the readings themselves, one
 * backward index probe per series. A series whose raw readings are all gone (retention)
 * keeps NULLs and is not shown, as before this migration; from now on a series keeps its
 * newest reading whatever retention drops, so a sensor that went silent long ago still
 * shows its last value and when it was taken.
 */
export const FILL_NEWEST_SQL = `
  UPDATE reading_series s SET (last_time, last_value, last_quality, last_source_quality) = (
    SELECT r.time, r.value, r.quality, r.source_quality FROM readings r
    WHERE r.device_num = s.device_num AND r.metric_num = s.metric_num
    ORDER BY r.time DESC LIMIT 1)`;

export const newestReadingPerSeries: Migration = {
  version: 8,
  name: 'newest reading kept per series',
  async up(tx, storage) {
    await tx.query(`
      ALTER TABLE reading_series
        ADD COLUMN last_time timestamptz,
        ADD COLUMN last_value double precision,
        ADD COLUMN last_quality smallint,
        ADD COLUMN last_source_quality integer`);
    // Every batch rewrites its series' rows: room on the page keeps those updates HOT (no
    // index entry per update, dead versions pruned within the page).
    await tx.query('ALTER TABLE reading_series SET (fillfactor = 50)');
    await tx.query(FILL_NEWEST_SQL);
    await tx.query(KEEP_NEWEST_FUNCTION);
    // Registration moves to keep_newest_readings: insert_readings goes back to writing readings (and partials).
    await tx.query(storage.timescale ? insertReadingsFunction('CREATE OR REPLACE') : writeReadingsFunction('CREATE OR REPLACE'));
  },
};
