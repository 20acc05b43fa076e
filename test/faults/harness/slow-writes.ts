import { withPostgresClient } from '../../../runtime/postgres-database.js';

/**
 * Makes every batch write take `delayMs` longer (a statement trigger calling pg_sleep
 * after the rows went in, inside the batch's transaction): a slow database, for load
 * tests. To catch a write mid-transaction deterministically, use write-gate.ts.
 */
export async function installSlowWrites(databaseUrl: string, delayMs: number): Promise<void> {
  await withPostgresClient(databaseUrl, async (client) => {
    await client.query(`
      CREATE OR REPLACE FUNCTION fault_slow_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_sleep(${Number(delayMs) / 1000});
        RETURN NULL;
      END $$`);
    await client.query('DROP TRIGGER IF EXISTS fault_slow_write ON readings');
    await client.query('CREATE TRIGGER fault_slow_write AFTER INSERT ON readings FOR EACH STATEMENT EXECUTE FUNCTION fault_slow_write()');
  });
}

export async function removeSlowWrites(databaseUrl: string): Promise<void> {
  await withPostgresClient(databaseUrl, (client) => client.query('DROP TRIGGER IF EXISTS fault_slow_write ON readings'));
}
