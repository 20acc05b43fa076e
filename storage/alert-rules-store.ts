import type { AlertRule } from '../services/alerts/alert-rule.js';
import type { Queryable } from './database.js';

/** Issue 7: alert rules as stored data (migration 005). The documents are validated before they get here. */

export interface StoredRule {
  rule: AlertRule;
  builtin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface RuleRow {
  definition: AlertRule;
  builtin: boolean;
  created_at: Date;
  updated_at: Date;
}

const toStored = (row: RuleRow): StoredRule => ({ rule: row.definition, builtin: row.builtin, createdAt: row.created_at, updatedAt: row.updated_at });

/** Enabled rules on any of these metrics: what one batch is evaluated against. Read per batch so API edits apply at once in every worker. */
export async function findEnabledRules(db: Queryable, metrics: readonly string[]): Promise<AlertRule[]> {
  if (metrics.length === 0) return [];
  const result = await db.query<{ definition: AlertRule }>(
    'SELECT definition FROM alert_rules WHERE enabled AND metric = ANY($1::text[]) ORDER BY id',
    [metrics],
  );
  return result.rows.map((row) => row.definition);
}

export async function listRules(db: Queryable): Promise<StoredRule[]> {
  const result = await db.query<RuleRow>('SELECT definition, builtin, created_at, updated_at FROM alert_rules ORDER BY id');
  return result.rows.map(toStored);
}

export async function findRule(db: Queryable, id: string): Promise<StoredRule | undefined> {
  const result = await db.query<RuleRow>('SELECT definition, builtin, created_at, updated_at FROM alert_rules WHERE id = $1', [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : toStored(row);
}

/** Inserts a rule; `undefined` when the id is taken. */
export async function insertRule(db: Queryable, rule: AlertRule, builtin = false): Promise<StoredRule | undefined> {
  const result = await db.query<RuleRow>(
    `INSERT INTO alert_rules (id, metric, enabled, definition, builtin) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING
     RETURNING definition, builtin, created_at, updated_at`,
    [rule.id, rule.scope.metric, rule.enabled, JSON.stringify(rule), builtin],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toStored(row);
}

/**
 * Replaces a rule's definition (an edited builtin is no longer builtin). The state of the
 * rule on its series is dropped (it was computed against the old condition) and its active
 * alerts are cleared as `rule_changed`. Run it in a transaction.
 */
export async function replaceRule(db: Queryable, rule: AlertRule): Promise<StoredRule | undefined> {
  const result = await db.query<RuleRow>(
    `UPDATE alert_rules SET metric = $2, enabled = $3, definition = $4, builtin = false, updated_at = now()
     WHERE id = $1 RETURNING definition, builtin, created_at, updated_at`,
    [rule.id, rule.scope.metric, rule.enabled, JSON.stringify(rule)],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  // Its open alerts were raised under the old condition and would never clear under the new state.
  await db.query(
    `UPDATE alerts SET state = 'cleared', cleared_at = now(), cleared_by = 'rule_changed' WHERE rule_id = $1 AND state <> 'cleared'`,
    [rule.id],
  );
  await db.query('DELETE FROM alert_rule_state WHERE rule_id = $1', [rule.id]);
  return toStored(row);
}

/** Deletes a rule and its state; its alerts stay as history. */
export async function deleteRule(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query('DELETE FROM alert_rules WHERE id = $1', [id]);
  return result.rowCount > 0;
}

/**
 * Inserts the shipped rules whose id is absent; an operator's edit is never overwritten.
 * A deleted default comes back at the next start: disable a default instead of deleting it.
 */
export async function seedRules(db: Queryable, rules: readonly AlertRule[], builtin = true): Promise<number> {
  let added = 0;
  for (const rule of rules) {
    if ((await insertRule(db, rule, builtin)) !== undefined) added += 1;
  }
  return added;
}
