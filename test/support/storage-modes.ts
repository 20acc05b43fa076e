import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPostgresDatabase } from '../../runtime/postgres-database.js';
import type { Database } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { createTestDatabase } from './services.js';
import { databaseModes, type DatabaseMode, type OwnedDatabase } from './storage-contract-modes.js';

/** Admin URL of a TimescaleDB server to run the storage contract on too (optional). */
const TIMESCALE_URL = process.env.TEST_TIMESCALE_URL || undefined;

/** Every database mode the storage contract runs on (DESIGN.md, "One stack, three database modes"). */
export const STORAGE_MODES = databaseModes({
  postgres: createTestDatabase,
  timescale: TIMESCALE_URL === undefined ? undefined : () => createPostgresDatabase(TIMESCALE_URL),
});

/** The only allowed skip, and a visible one: the TimescaleDB server mode without a server. */
export function noteTimescaleServerSkipped(): void {
  describe.skipIf(TIMESCALE_URL !== undefined)('TimescaleDB server', () => {
    it.skip('skipped: TEST_TIMESCALE_URL (admin URL of a TimescaleDB server) is not set', () => {});
  });
}

/**
 * A fresh, migrated database of `mode` for the enclosing describe block, closed and
 * removed after it. The returned `db` forwards to it, so tests use it as they would the
 * real one; `owned()` opens further connections (a second "process") where the mode has them.
 */
export function useMigratedDatabase(mode: DatabaseMode): { db: Database; owned: () => OwnedDatabase } {
  let owned: OwnedDatabase | undefined;
  let opened: Database | undefined;
  beforeAll(async () => {
    owned = await mode.createDatabase();
    opened = await owned.open();
    await migrate(opened);
  });
  afterAll(() => owned?.dispose());
  const current = (): Database => {
    if (opened === undefined) throw new Error('the test database is used before beforeAll opened it');
    return opened;
  };
  const db: Database = {
    get kind() {
      return current().kind;
    },
    query: (sql, params) => current().query(sql, params),
    transaction: (work) => current().transaction(work),
    close: () => current().close(),
  };
  const ownedDatabase = (): OwnedDatabase => {
    if (owned === undefined) throw new Error('the test database is used before beforeAll created it');
    return owned;
  };
  return { db, owned: ownedDatabase };
}
