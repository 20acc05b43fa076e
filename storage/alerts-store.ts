import type { Severity } from '../services/alerts/alert-rule.js';
import type { RuleState } from '../services/alerts/evaluate-rule.js';
import type { Queryable } from './database.js';

/** Issue 7: per-(rule, series) evaluator state and alerts (migration 005). */

export const ALERT_STATES = ['open', 'acknowledged', 'cleared'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface SeriesKey {
  ruleId: string;
  deviceId: string;
  metric: string;
}

const keyOf = (key: SeriesKey) => `${key.ruleId}\u0000${key.deviceId}\u0000${key.metric}`;

/**
 * Locks the state rows of these (rule, series) pairs for the rest of the transaction,
 * creating missing ones first, and returns their states. Rows are created and locked in
 * one sorted order, so two workers evaluating overlapping batches wait for each other
 * instead of deadlocking, and the second one sees the first one's committed state.
 */
export async function lockRuleStates(tx: Queryable, keys: readonly SeriesKey[]): Promise<Map<string, RuleState>> {
  if (keys.length === 0) return new Map();
  const sorted = [...new Map(keys.map((key) => [keyOf(key), key])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, key]) => key);
  const columns = [sorted.map((key) => key.ruleId), sorted.map((key) => key.deviceId), sorted.map((key) => key.metric)];
  await tx.query(
    `INSERT INTO alert_rule_state (rule_id, device_id, metric, state)
     SELECT rule_id, device_id, metric, '{"phase": "normal"}'::jsonb
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(rule_id, device_id, metric, n)
     ORDER BY n
     ON CONFLICT (rule_id, device_id, metric) DO NOTHING`,
    columns,
  );
  const result = await tx.query<{ rule_id: string; device_id: string; metric: string; state: RuleState }>(
    `SELECT s.rule_id, s.device_id, s.metric, s.state
     FROM alert_rule_state s
     JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(rule_id, device_id, metric)
       ON s.rule_id = k.rule_id AND s.device_id = k.device_id AND s.metric = k.metric
     ORDER BY s.rule_id, s.device_id, s.metric
     FOR UPDATE OF s`,
    columns,
  );
  return new Map(result.rows.map((row) => [keyOf({ ruleId: row.rule_id, deviceId: row.device_id, metric: row.metric }), row.state]));
}

export function stateKey(key: SeriesKey): string {
  return keyOf(key);
}

export async function saveRuleStates(tx: Queryable, states: readonly (SeriesKey & { state: RuleState })[]): Promise<void> {
  if (states.length === 0) return;
  await tx.query(
    `UPDATE alert_rule_state s SET state = k.state, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS k(rule_id, device_id, metric, state)
     WHERE s.rule_id = k.rule_id AND s.device_id = k.device_id AND s.metric = k.metric`,
    [states.map((s) => s.ruleId), states.map((s) => s.deviceId), states.map((s) => s.metric), states.map((s) => JSON.stringify(s.state))],
  );
}

export interface Alert {
  id: string;
  ruleId: string;
  deviceId: string;
  metric: string;
  severity: Severity;
  domain: string | undefined;
  district: string | undefined;
  state: AlertState;
  openedAt: Date;
  openValue: number | undefined;
  acknowledgedAt: Date | undefined;
  acknowledgedBy: string | undefined;
  ackNote: string | undefined;
  clearedAt: Date | undefined;
  clearedBy: string | undefined;
  clearValue: number | undefined;
}

interface AlertRow {
  id: string;
  rule_id: string;
  device_id: string;
  metric: string;
  severity: Severity;
  domain: string | null;
  district: string | null;
  state: AlertState;
  opened_at: Date;
  open_value: number | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  ack_note: string | null;
  cleared_at: Date | null;
  cleared_by: string | null;
  clear_value: number | null;
}

const ALERT_COLUMNS = `id::text AS id, rule_id, device_id, metric, severity, domain, district, state, opened_at, open_value,
  acknowledged_at, acknowledged_by, ack_note, cleared_at, cleared_by, clear_value`;

const u = <T>(value: T | null): T | undefined => value ?? undefined;

function toAlert(row: AlertRow): Alert {
  return {
    id: row.id, ruleId: row.rule_id, deviceId: row.device_id, metric: row.metric, severity: row.severity,
    domain: u(row.domain), district: u(row.district), state: row.state, openedAt: row.opened_at, openValue: u(row.open_value),
    acknowledgedAt: u(row.acknowledged_at), acknowledgedBy: u(row.acknowledged_by), ackNote: u(row.ack_note),
    clearedAt: u(row.cleared_at), clearedBy: u(row.cleared_by), clearValue: u(row.clear_value),
  };
}

export interface NewAlert extends SeriesKey {
  severity: Severity;
  domain: string | undefined;
  district: string | undefined;
  openedAt: Date;
  openValue: number;
}

/**
 * Opens an alert unless one is already open or acknowledged for the (rule, series):
 * the partial unique index `alerts_one_active` decides, so even an evaluator bug or a
 * race cannot make a duplicate. `undefined` when one was active already.
 */
export async function openAlert(tx: Queryable, alert: NewAlert): Promise<Alert | undefined> {
  const result = await tx.query<AlertRow>(
    `INSERT INTO alerts (rule_id, device_id, metric, severity, domain, district, state, opened_at, open_value)
     VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)
     ON CONFLICT (rule_id, device_id, metric) WHERE state <> 'cleared' DO NOTHING
     RETURNING ${ALERT_COLUMNS}`,
    [alert.ruleId, alert.deviceId, alert.metric, alert.severity, alert.domain ?? null, alert.district ?? null, alert.openedAt.toISOString(), alert.openValue],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toAlert(row);
}

/** Clears the active alert of a (rule, series) because its condition cleared. */
export async function clearActiveAlert(tx: Queryable, key: SeriesKey, clearedAt: Date, value: number | undefined, by = 'condition'): Promise<Alert | undefined> {
  const result = await tx.query<AlertRow>(
    `UPDATE alerts SET state = 'cleared', cleared_at = $4, cleared_by = $5, clear_value = $6
     WHERE rule_id = $1 AND device_id = $2 AND metric = $3 AND state <> 'cleared'
     RETURNING ${ALERT_COLUMNS}`,
    [key.ruleId, key.deviceId, key.metric, clearedAt.toISOString(), by, value ?? null],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toAlert(row);
}

export async function findAlert(db: Queryable, id: string): Promise<Alert | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query<AlertRow>(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : toAlert(row);
}

/** Acknowledges an open alert; `undefined` when there is no such alert or it is not open. */
export async function acknowledgeAlert(db: Queryable, id: string, by: string, note: string, at = new Date()): Promise<Alert | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query<AlertRow>(
    `UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, ack_note = $4
     WHERE id = $1 AND state = 'open' RETURNING ${ALERT_COLUMNS}`,
    [id, at.toISOString(), by, note],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toAlert(row);
}

/**
 * Clears an alert by hand. The rule's state on the series is left as it is: while the
 * condition still holds no new alert opens; one opens again after the condition has
 * cleared and triggered anew.
 */
export async function clearAlertManually(db: Queryable, id: string, by: string, at = new Date()): Promise<Alert | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const result = await db.query<AlertRow>(
    `UPDATE alerts SET state = 'cleared', cleared_at = $2, cleared_by = $3
     WHERE id = $1 AND state <> 'cleared' RETURNING ${ALERT_COLUMNS}`,
    [id, at.toISOString(), by],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toAlert(row);
}

export interface AlertFilter {
  states?: readonly AlertState[];
  severities?: readonly Severity[];
  domain?: string;
  district?: string;
  deviceId?: string;
  /** Opened at or after. */
  from?: Date;
  /** Opened before. */
  to?: Date;
  /** Keyset cursor: the last alert of the previous page (newest first). */
  after?: { openedAt: Date; id: string };
  limit: number;
}

/** Alerts newest first (opened_at, then id), filtered, one page. */
export async function listAlerts(db: Queryable, filter: AlertFilter): Promise<Alert[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.states !== undefined) add((p) => `state = ANY(${p}::text[])`, [...filter.states]);
  if (filter.severities !== undefined) add((p) => `severity = ANY(${p}::text[])`, [...filter.severities]);
  if (filter.domain !== undefined) add((p) => `domain = ${p}`, filter.domain);
  if (filter.district !== undefined) add((p) => `district = ${p}`, filter.district);
  if (filter.deviceId !== undefined) add((p) => `device_id = ${p}`, filter.deviceId);
  if (filter.from !== undefined) add((p) => `opened_at >= ${p}`, filter.from.toISOString());
  if (filter.to !== undefined) add((p) => `opened_at < ${p}`, filter.to.toISOString());
  if (filter.after !== undefined) {
    params.push(filter.after.openedAt.toISOString(), filter.after.id);
    where.push(`(opened_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
  }
  params.push(filter.limit);
  const result = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY opened_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return result.rows.map(toAlert);
}

/** Active alerts by severity, for metrics. */
export async function countActiveAlerts(db: Queryable): Promise<Map<string, number>> {
  const result = await db.query<{ severity: string; state: string; count: string }>(
    `SELECT severity, state, count(*)::text AS count FROM alerts WHERE state <> 'cleared' GROUP BY 1, 2`,
  );
  return new Map(result.rows.map((row) => [`${row.severity}/${row.state}`, Number(row.count)]));
}
