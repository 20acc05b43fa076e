import path from 'node:path';
import type { Database } from './database.js';
import { createPgDatabase } from './pg-database.js';
import { createPgliteDatabase } from './pglite-database.js';

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when undefined the embedded PGlite database under `dataDir` is used. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** @defaultValue 10 */
  maxConnections?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl !== undefined) {
    return createPgDatabase({ connectionString: options.databaseUrl, maxConnections: options.maxConnections ?? 10 });
  }
  return createPgliteDatabase({ dataDir: path.resolve(options.dataDir, 'pglite') });
}
