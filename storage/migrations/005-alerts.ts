import type { Migration } from '../migration.js';

/**
 * Issue 7: alert rules, the state of each rule on each series, and alerts with their history.
 *
 * - `alert_rules.definition` is the validated rule document (services/alerts/alert-rule.ts),
 *   kept whole so the rule model can grow without a migration per field.
 * - `alert_rule_state` is the evaluator's memory per (rule, series): workers are stateless
 *   replicas, and the next reading of a series may be evaluated by another process. The
 *   row is locked (`FOR UPDATE`) while a batch is evaluated.
 * - `alerts` is history as well as the current list: an alert is never deleted, it ends
 *   `cleared`. The partial unique index makes "one open alert per rule and series" a
 *   database guarantee, whatever the evaluator does.
 * - `devices.district` scopes rules and the AQI by district (NULL: not placed);
 *   `devices.expected_interval_s` is how often the device reports (NULL: the default).
 * - `device_health` is when each device was last heard from, kept by the ingest workers
 *   in the batch transaction, read by the offline check.
 */
export const alerts: Migration = {
  version: 5,
  name: 'alert rules, rule state and alerts',
  async up(tx) {
    await tx.query(`ALTER TABLE devices ADD COLUMN district text, ADD COLUMN expected_interval_s integer CHECK (expected_interval_s > 0)`);
    await tx.query(`
      CREATE TABLE device_health (
        device_id text COLLATE "C" PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
        -- Database clock when the last batch with readings of the device committed.
        last_seen_at timestamptz NOT NULL,
        -- Latest source timestamp among its readings.
        last_source_time timestamptz NOT NULL
      )`);
    await tx.query(`
      CREATE TABLE alert_rules (
        id text COLLATE "C" PRIMARY KEY,
        metric text NOT NULL,
        enabled boolean NOT NULL,
        definition jsonb NOT NULL,
        -- Seeded from the shipped defaults (services/alerts/default-rules.ts); an edit makes it false.
        builtin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await tx.query(`CREATE INDEX alert_rules_by_metric ON alert_rules (metric) WHERE enabled`);
    await tx.query(`
      CREATE TABLE alert_rule_state (
        rule_id text COLLATE "C" NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
        device_id text COLLATE "C" NOT NULL,
        metric text NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rule_id, device_id, metric)
      )`);
    await tx.query(`
      CREATE TABLE alerts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        -- No foreign key: the history outlives a deleted rule.
        rule_id text COLLATE "C" NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        metric text NOT NULL,
        severity text NOT NULL,
        domain text,
        district text,
        state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
        -- Source time and value of the reading that opened / cleared it.
        opened_at timestamptz NOT NULL,
        open_value double precision,
        acknowledged_at timestamptz,
        acknowledged_by text,
        ack_note text,
        cleared_at timestamptz,
        -- 'condition' when the condition cleared, else the API key that cleared it.
        cleared_by text,
        clear_value double precision,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await tx.query(`CREATE UNIQUE INDEX alerts_one_active ON alerts (rule_id, device_id, metric) WHERE state <> 'cleared'`);
    await tx.query(`CREATE INDEX alerts_by_time ON alerts (opened_at DESC, id DESC)`);
    await tx.query(`CREATE INDEX alerts_active ON alerts (state) WHERE state <> 'cleared'`);
  },
};
