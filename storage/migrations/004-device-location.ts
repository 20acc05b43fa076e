import type { Migration } from '../migration.js';

/**
 * Issue 5: where a device is, for the city-wide snapshot's bounding box.
 *
 * WGS 84 degrees as two plain columns rather than PostGIS: the snapshot's only spatial
 * question is a box, which two range conditions answer, and PGlite has no PostGIS.
 * Both set or both NULL (not placed). `devices.district` arrives with migration 005
 * (issue 7 scopes alert rules by it); the API reads and writes it as metadata too.
 */
export const deviceLocation: Migration = {
  version: 4,
  name: 'device location',
  async up(tx) {
    await tx.query(`
      ALTER TABLE devices
        ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
        ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
        ADD CONSTRAINT devices_location_whole CHECK ((latitude IS NULL) = (longitude IS NULL))`);
  },
};
