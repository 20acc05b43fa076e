import type { Queryable } from './database.js';

/** Maps catalogue keys to the smallint stored in every reading row, and back. */
export interface MetricDictionary {
  numOf(key: string): number | undefined;
  keyOf(num: number): string | undefined;
}

/**
 * Makes sure every catalogue key has a number (concurrent starts are fine: the
 * insert ignores keys that exist) and loads the mapping. Numbers are never reused,
 * so a metric removed from the catalogue keeps its history readable.
 */
export async function loadMetricDictionary(db: Queryable, catalogueKeys: readonly string[]): Promise<MetricDictionary> {
  // Only keys not yet numbered reach the INSERT: ON CONFLICT alone would still draw an
  // identity value for every key on every process start, and the smallint identity
  // (32 767 numbers) would run out after about a thousand starts of a 32-metric catalogue.
  await db.query(
    `INSERT INTO metrics (key)
     SELECT DISTINCT wanted.key FROM unnest($1::text[]) AS wanted(key)
     WHERE NOT EXISTS (SELECT 1 FROM metrics WHERE metrics.key = wanted.key)
     ON CONFLICT (key) DO NOTHING`,
    [catalogueKeys],
  );
  const result = await db.query<{ num: number; key: string }>('SELECT num, key FROM metrics');
  const byKey = new Map(result.rows.map((row) => [row.key, row.num]));
  const byNum = new Map(result.rows.map((row) => [row.num, row.key]));
  return {
    numOf: (key) => byKey.get(key),
    keyOf: (num) => byNum.get(num),
  };
}
