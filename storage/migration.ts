import type { Queryable } from './database.js';

/** What the connected database can do, detected once at start. */
export interface StorageCapabilities {
  /** TimescaleDB extension installed in this database. */
  timescale: boolean;
  timescaleVersion: string | undefined;
}

export interface Migration {
  /** Applied in ascending order, each exactly once. */
  version: number;
  name: string;
  up(tx: Queryable, storage: StorageCapabilities): Promise<void>;
}
