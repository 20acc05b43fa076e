import { describe, it } from 'vitest';
import { createPostgresDatabase } from '../../runtime/postgres-database.js';
import { createTestDatabase } from './services.js';
import { databaseModes } from './storage-contract-modes.js';

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
