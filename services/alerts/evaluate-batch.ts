import type { CanonicalReading } from '../../contracts/reading.js';
import { findEnabledRules } from '../../storage/alert-rules-store.js';
import { clearActiveAlert, lockRuleStates, openAlert, saveRuleStates, stateKey, type Alert, type SeriesKey } from '../../storage/alerts-store.js';
import type { Queryable } from '../../storage/database.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import { touchDevices } from '../../storage/device-health-store.js';
import type { RuleState } from './evaluate-rule.js';
import { ruleApplies, type AlertRule, type SeriesContext } from './alert-rule.js';
import { evaluateSeries, INITIAL_STATE, type RulePoint } from './evaluate-rule.js';
import { AQI_SERIES, completedAqiHours, stationAqiValue } from './aqi-series.js';

/** What one batch changed; the caller publishes it after the transaction commits. */
export interface AlertChanges {
  opened: Alert[];
  cleared: Alert[];
}

interface DeviceContext {
  num: number;
  domain: string;
  district: string | undefined;
  profile: string | undefined;
}

async function deviceContexts(tx: Queryable, ids: readonly string[]): Promise<Map<string, DeviceContext>> {
  const result = await tx.query<{ id: string; num: number; domain: string; district: string | null; profile: string | null }>(
    'SELECT id, num, domain, district, profile FROM devices WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(result.rows.map((row) => [row.id, { num: row.num, domain: row.domain, district: row.district ?? undefined, profile: row.profile ?? undefined }]));
}

export interface EvaluateOptions {
  /** Needed for rules on the derived `aqi` series (they read the 1-hour rollups); without it they are not evaluated. */
  dictionary?: MetricDictionary;
}

interface AqiCandidate extends SeriesWork {
  hourStartMs: number;
}

/** (aqi rule, station) pairs whose station completed an hour in this batch. */
function planAqi(rules: readonly AlertRule[], hours: ReadonlyMap<string, number>, devices: ReadonlyMap<string, DeviceContext>): AqiCandidate[] {
  const candidates: AqiCandidate[] = [];
  for (const [deviceId, hourStartMs] of hours) {
    const device = devices.get(deviceId);
    // Air-quality stations are environment devices (as GET /api/v1/aqi has them).
    if (device === undefined || device.domain !== 'environment') continue;
    const context: SeriesContext = { deviceId, metric: AQI_SERIES, ...device };
    for (const rule of rules) {
      if (ruleApplies(rule, context)) candidates.push({ ruleId: rule.id, deviceId, metric: AQI_SERIES, rule, context, points: [], hourStartMs });
    }
  }
  return candidates;
}

interface SeriesWork extends SeriesKey {
  rule: AlertRule;
  context: SeriesContext;
  points: RulePoint[];
}

/** Groups the readings into (rule, series) work items for every enabled rule that applies. */
function planWork(rules: readonly AlertRule[], readings: readonly CanonicalReading[], devices: ReadonlyMap<string, DeviceContext>): SeriesWork[] {
  const work = new Map<string, SeriesWork>();
  for (const reading of readings) {
    const device = devices.get(reading.deviceId);
    const context: SeriesContext = { deviceId: reading.deviceId, metric: reading.metric, ...device };
    for (const rule of rules) {
      if (!ruleApplies(rule, context)) continue;
      const key = { ruleId: rule.id, deviceId: reading.deviceId, metric: reading.metric };
      const id = stateKey(key);
      let item = work.get(id);
      if (item === undefined) work.set(id, (item = { ...key, rule, context, points: [] }));
      item.points.push({ timeMs: reading.time.getTime(), value: reading.value });
    }
  }
  return [...work.values()];
}

/**
 * Records when each device was last heard from (the offline check reads it) and
 * evaluates the enabled rules against a batch of readings inside the batch's transaction
 * (services/ingest/store-envelopes.ts), so readings, rule state and alerts commit or roll
 * back together and a retried job cannot open an alert twice. Readings of quality `bad`
 * are not evaluated: a sensor reporting its own fault is not a measured condition.
 */
export async function evaluateAlertRules(tx: Queryable, readings: readonly CanonicalReading[], options: EvaluateOptions = {}): Promise<AlertChanges> {
  const changes: AlertChanges = { opened: [], cleared: [] };
  // Device health first, from every reading: a device reporting bad quality is still alive.
  const latest = new Map<string, Date>();
  for (const reading of readings) {
    const seen = latest.get(reading.deviceId);
    if (seen === undefined || reading.time > seen) latest.set(reading.deviceId, reading.time);
  }
  await touchDevices(tx, latest);
  const usable = readings.filter((reading) => reading.quality !== 'bad');
  const metrics = new Set(usable.map((reading) => reading.metric));
  const aqiHours = options.dictionary === undefined ? new Map<string, number>() : completedAqiHours(usable);
  if (aqiHours.size > 0) metrics.add(AQI_SERIES);
  const rules = await findEnabledRules(tx, [...metrics]);
  if (rules.length === 0) return changes;
  const devices = await deviceContexts(tx, [...new Set(usable.map((reading) => reading.deviceId))]);
  const work = planWork(rules, usable, devices);
  const aqi = planAqi(rules.filter((rule) => rule.scope.metric === AQI_SERIES), aqiHours, devices);
  if (work.length + aqi.length === 0) return changes;
  const states = await lockRuleStates(tx, [...work, ...aqi]);
  const saved: (SeriesKey & { state: RuleState })[] = [];
  for (const candidate of aqi) {
    const before = states.get(stateKey(candidate)) ?? INITIAL_STATE;
    // Once per completed hour: the state remembers the last hour evaluated.
    if ((before.lastTimeMs ?? -Infinity) >= candidate.hourStartMs) continue;
    const station = { id: candidate.deviceId, num: devices.get(candidate.deviceId)!.num, district: candidate.context.district };
    const value = await stationAqiValue(tx, options.dictionary!, station, candidate.hourStartMs);
    if (value !== undefined) work.push({ ...candidate, points: [{ timeMs: candidate.hourStartMs, value }] });
    // Too few hours for an AQI: the hour is done all the same, so it is not computed again.
    else saved.push({ ruleId: candidate.ruleId, deviceId: candidate.deviceId, metric: AQI_SERIES, state: { ...before, lastTimeMs: candidate.hourStartMs } });
  }
  for (const item of work) {
    const before = states.get(stateKey(item)) ?? INITIAL_STATE;
    const { state, transitions } = evaluateSeries(item.rule, before, item.points);
    saved.push({ ruleId: item.ruleId, deviceId: item.deviceId, metric: item.metric, state });
    for (const transition of transitions) {
      const at = new Date(transition.timeMs);
      if (transition.kind === 'open') {
        const opened = await openAlert(tx, {
          ...item, severity: item.rule.severity, domain: item.context.domain, district: item.context.district, openedAt: at, openValue: transition.value,
        });
        if (opened !== undefined) changes.opened.push(opened);
      } else {
        const cleared = await clearActiveAlert(tx, item, at, transition.value);
        if (cleared !== undefined) changes.cleared.push(cleared);
      }
    }
  }
  await saveRuleStates(tx, saved);
  return changes;
}
