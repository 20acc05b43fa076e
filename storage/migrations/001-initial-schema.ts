import type { Migration } from '../migration.js';

/**
 * Devices, API keys, the metric dictionary, readings and quarantine.
 * Readings use narrow integer keys (device_num, metric_num) instead of repeating text
 * in every row; the unique key (device, metric, time) is what makes writes idempotent.
 */
export const initialSchema: Migration = {
  version: 1,
  name: 'initial schema',
  async up(tx, storage) {
    await tx.query(`
      CREATE TABLE devices (
        -- Byte order, whatever the server's locale: device lists page by id (keyset).
        id text COLLATE "C" PRIMARY KEY,
        num integer GENERATED ALWAYS AS IDENTITY UNIQUE,
        domain text NOT NULL,
        name text NOT NULL,
        secret_hash text NOT NULL,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await tx.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        secret_hash text NOT NULL,
        role text NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await tx.query(`
      CREATE TABLE metrics (
        num smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key text NOT NULL UNIQUE
      )`);
    await tx.query(`
      CREATE TABLE readings (
        time timestamptz NOT NULL,
        device_num integer NOT NULL,
        metric_num smallint NOT NULL,
        value double precision NOT NULL,
        quality smallint NOT NULL DEFAULT 0,
        source_quality integer,
        CONSTRAINT readings_series_time UNIQUE (device_num, metric_num, time)
      )${storage.timescale ? '' : ' PARTITION BY RANGE (time)'}`);
    // TimescaleDB chunks by time itself; plain PostgreSQL gets native range partitions,
    // created by migration 002's functions (the unique key holds the partition key, as
    // PostgreSQL requires). Either way the chunk width is reset from the settings at start.
    if (storage.timescale) {
      await tx.query(`SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'))`);
    }
    await tx.query(`
      CREATE TABLE quarantine (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        envelope_id text NOT NULL,
        item integer NOT NULL,
        source text NOT NULL,
        device_id text,
        topic text,
        received_at timestamptz NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT now(),
        reason text NOT NULL,
        message text NOT NULL,
        payload text NOT NULL,
        payload_encoding text NOT NULL,
        CONSTRAINT quarantine_once UNIQUE (envelope_id, item)
      )`);
    await tx.query(`CREATE INDEX quarantine_by_device ON quarantine (device_id, id)`);
  },
};
