import type { Queryable } from '../database.js';
import { PARTITION_LOCK_KEY } from './rollup-columns.js';

/*
 * Plain PostgreSQL mode, native partitioning: readings and the folded rollups are
 * range-partitioned by time; partitions, like every internal object of this mode,
 * live in the `storage_internal` schema, so `public` holds the same relations in
 * every mode.
 */

export const INTERNAL_SCHEMA = 'storage_internal';

/** Partition bounds, read back from the catalogue in UTC and ISO so the cast back is exact. */
const BOUNDS_FUNCTION = String.raw`
  CREATE FUNCTION storage_internal.bounds(parent regclass)
  RETURNS TABLE (name text, from_time timestamptz, to_time timestamptz)
  LANGUAGE sql STABLE SET "TimeZone" = 'UTC' SET "DateStyle" = 'ISO, YMD' AS $fn$
    SELECT c.relname::text, m[1]::timestamptz, m[2]::timestamptz
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \('([^']+)'\) TO \('([^']+)'\)$re$) AS m
    WHERE i.inhparent = parent
  $fn$`;

/**
 * Creates one partition as a table of its own and attaches it: ATTACH needs only a
 * SHARE UPDATE EXCLUSIVE lock on the parent, so inserts and queries carry on, where
 * CREATE TABLE … PARTITION OF would block them until the creating transaction ends.
 */
const CREATE_FUNCTION = `
  CREATE FUNCTION storage_internal.create_partition(parent regclass, from_time timestamptz, to_time timestamptz)
  RETURNS text
  LANGUAGE plpgsql SET "TimeZone" = 'UTC' SET "DateStyle" = 'ISO, YMD' AS $fn$
  DECLARE
    partition_name text := format('%s_%s', (SELECT relname FROM pg_class WHERE oid = parent), to_char(from_time, 'YYYYMMDD"_"HH24MISS'));
  BEGIN
    EXECUTE format('CREATE TABLE storage_internal.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition_name, parent);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION storage_internal.%I FOR VALUES FROM (%L) TO (%L)', parent, partition_name, from_time, to_time);
    RETURN partition_name;
  END $fn$`;

/**
 * Makes sure every instant in `times` has a partition of `parent`: each missing
 * `step`-wide range (epoch-aligned) is created, clipped to the partitions already
 * there, so a changed chunk interval fills gaps instead of overlapping old partitions.
 * Returns the names created.
 */
const ENSURE_FUNCTION = `
  CREATE FUNCTION storage_internal.ensure(parent regclass, times timestamptz[], step interval)
  RETURNS text[]
  LANGUAGE plpgsql AS $fn$
  DECLARE
    range_start timestamptz;
    covered_to timestamptz;
    existing record;
    created text[] := '{}';
  BEGIN
    -- Writers and maintenance create and drop partitions under one lock, so two never
    -- race on the same one; taken only when a partition is missing.
    PERFORM pg_advisory_xact_lock(${PARTITION_LOCK_KEY});
    FOR range_start IN SELECT DISTINCT date_bin(step, t, timestamptz 'epoch') FROM unnest(times) AS t ORDER BY 1 LOOP
      covered_to := range_start;
      FOR existing IN
        SELECT b.from_time, b.to_time FROM storage_internal.bounds(parent) AS b
        WHERE b.to_time > range_start AND b.from_time < range_start + step ORDER BY b.from_time
      LOOP
        IF existing.from_time > covered_to THEN
          created := created || storage_internal.create_partition(parent, covered_to, existing.from_time);
        END IF;
        covered_to := greatest(covered_to, existing.to_time);
      END LOOP;
      IF covered_to < range_start + step THEN
        created := created || storage_internal.create_partition(parent, covered_to, range_start + step);
      END IF;
    END LOOP;
    RETURN created;
  END $fn$`;

export async function createPartitioning(tx: Queryable): Promise<void> {
  await tx.query(`CREATE SCHEMA ${INTERNAL_SCHEMA}`);
  for (const statement of [BOUNDS_FUNCTION, CREATE_FUNCTION, ENSURE_FUNCTION]) await tx.query(statement);
}
