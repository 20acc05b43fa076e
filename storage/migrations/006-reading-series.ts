import type { Migration } from '../migration.js';
import { writeReadingsFunction } from './plain-rollups.js';
import { insertReadingsFunction } from './timescale-rollups.js';

/**
 * The series (device, metric) that have readings, kept by the writer in the batch's own
 * statement, so "the newest reading of each metric" probes only series that exist.
 *
 * Without it the latest and snapshot queries tried every metric of the dictionary (the
 * whole catalogue, ~50) for every device, and a metric a device never reported was
 * looked for in every partition or chunk before giving up: for the city-wide snapshot
 * of 1000 devices over a month that was ~1.5 million index probes (docs/storage.md,
 * "Latest values"). A series is registered once, when its first reading is written; a
 * known series costs the writer one probe of this small, always-cached table.
 */
const REGISTER_SERIES = `, registered AS (
      INSERT INTO reading_series (device_num, metric_num)
      SELECT DISTINCT w.device_num, w.metric_num FROM written w
      WHERE NOT EXISTS (SELECT 1 FROM reading_series s WHERE s.device_num = w.device_num AND s.metric_num = w.metric_num)
      -- In key order, like the readings: concurrent writers registering the same new series wait, never deadlock.
      ORDER BY 1, 2
      ON CONFLICT DO NOTHING
    )`;

export const readingSeries: Migration = {
  version: 6,
  name: 'series registry for the latest values',
  async up(tx, storage) {
    await tx.query(`
      CREATE TABLE reading_series (
        device_num integer NOT NULL,
        metric_num smallint NOT NULL,
        PRIMARY KEY (device_num, metric_num)
      )`);
    // Every series with raw readings has 1-hour rollups (rollups outlive raw readings,
    // storage-settings.ts), and rollup_1h is 60 times smaller than readings.
    await tx.query(`INSERT INTO reading_series SELECT DISTINCT device_num, metric_num FROM rollup_1h`);
    await tx.query(storage.timescale ? insertReadingsFunction('CREATE OR REPLACE', REGISTER_SERIES) : writeReadingsFunction('CREATE OR REPLACE', REGISTER_SERIES));
  },
};
