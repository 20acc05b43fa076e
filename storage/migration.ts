import type { DatabaseKind, Queryable } from './database.js';

/** What the connected database can do, detected once at start. */
export interface StorageCapabilities {
  /**
   * `readings` is (or, on an empty database, will be) a TimescaleDB hypertable with
   * continuous aggregates and compression; `false` means plain PostgreSQL: native
   * partitions and rollups kept by the writer.
   */
  timescale: boolean;
  timescaleVersion: string | undefined;
}

export interface Migration {
  /** Applied in ascending order, each exactly once. */
  version: number;
  name: string;
  up(tx: Queryable, storage: StorageCapabilities): Promise<void>;
}

/** The three database modes of DESIGN.md ("One stack, three database modes"). */
export type StorageMode = 'timescaledb' | 'pglite-timescaledb' | 'postgresql';

/**
 * Embedded PGlite always has TimescaleDB; it is its own mode because it runs no
 * background jobs, so the app's maintenance loop does the policies' work there.
 */
export function storageModeOf(kind: DatabaseKind, capabilities: StorageCapabilities): StorageMode {
  if (kind === 'pglite') return 'pglite-timescaledb';
  return capabilities.timescale ? 'timescaledb' : 'postgresql';
}

/** For the start-up banner and /readyz. */
export function describeStorageMode(mode: StorageMode, capabilities: StorageCapabilities): string {
  const version = capabilities.timescaleVersion === undefined ? '' : ` ${capabilities.timescaleVersion}`;
  switch (mode) {
    case 'timescaledb':
      return `TimescaleDB${version} server: hypertable, continuous aggregates, compression and retention by policy`;
    case 'pglite-timescaledb':
      return `embedded PGlite with TimescaleDB${version}: policies run by the app's maintenance loop`;
    case 'postgresql':
      return 'PostgreSQL without TimescaleDB: native range partitions, rollups kept by the writer';
  }
}
