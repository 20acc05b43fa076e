/**
 * Issue 7: an alert rule is data — stored, API-managed and seedable from a file — so it is
 * a plain JSON-serialisable object, validated here without I/O.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Which series a rule watches. `metric` is always required (a condition is on one metric);
 * the other fields narrow it and are all optional: a rule with only a metric watches every
 * device that reports it.
 */
export interface RuleScope {
  metric: string;
  deviceId?: string;
  domain?: string;
  district?: string;
  /** Vendor device profile name (DEVICE_PROFILES_FILE). */
  profile?: string;
}

/**
 * `above`: opens when value ≥ `trigger`, clears when value < `clear` (hysteresis; `clear` ≤ `trigger`,
 * defaults to `trigger`). `below` mirrors it: opens at value ≤ `trigger`, clears at value > `clear`.
 * Setpoints are inclusive because alarm levels are specified as "reaches" (≥ 20 %LEL).
 */
export interface ThresholdCondition {
  type: 'above' | 'below';
  trigger: number;
  clear?: number;
}

/** Opens when value ≤ `low` or ≥ `high`; clears once back inside [`lowClear`, `highClear`] (defaults: the band). */
export interface BandCondition {
  type: 'outside';
  low: number;
  high: number;
  lowClear?: number;
  highClear?: number;
}

/**
 * Rate of change between two consecutive readings of the series, in canonical units per
 * second. `fall` looks at decreases (a pipe pressure collapsing), `rise` at increases,
 * `either` at the absolute change. Opens at |rate| ≥ `perSecond`, clears at |rate| < `clearPerSecond`.
 */
export interface RateCondition {
  type: 'rate';
  direction: 'rise' | 'fall' | 'either';
  perSecond: number;
  clearPerSecond?: number;
}

/**
 * Flatline (a stuck sensor): every reading for `seconds` stayed within `tolerance` of the
 * first reading of the run. Clears on the first reading that moves beyond `tolerance`.
 */
export interface FlatlineCondition {
  type: 'flatline';
  seconds: number;
  /** @defaultValue 0 */
  tolerance?: number;
}

export type RuleCondition = ThresholdCondition | BandCondition | RateCondition | FlatlineCondition;

export interface AlertRule {
  /** Stable id (kebab-case), e.g. `gas-lel-critical`. */
  id: string;
  name: string;
  scope: RuleScope;
  condition: RuleCondition;
  /** The condition must hold at every reading for this long before an alert opens. @defaultValue 0 */
  forSeconds: number;
  severity: Severity;
  /** Where the number comes from (a standard clause, or "municipal convention"). */
  source?: string;
  enabled: boolean;
}

export type RuleValidation = { ok: true; rule: AlertRule } | { ok: false; errors: string[] };

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const SCOPE_KEYS = ['metric', 'deviceId', 'domain', 'district', 'profile'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function numberField(source: Record<string, unknown>, key: string, errors: string[], optional = false): number | undefined {
  const value = source[key];
  if (value === undefined && optional) return undefined;
  if (!finite(value)) {
    errors.push(`condition.${key} must be a finite number`);
    return undefined;
  }
  return value;
}

function validateCondition(input: unknown, errors: string[]): RuleCondition | undefined {
  if (!isRecord(input)) {
    errors.push('condition must be an object');
    return undefined;
  }
  const before = errors.length;
  switch (input.type) {
    case 'above':
    case 'below': {
      const trigger = numberField(input, 'trigger', errors);
      const clear = numberField(input, 'clear', errors, true);
      if (trigger !== undefined && clear !== undefined) {
        if (input.type === 'above' && clear > trigger) errors.push('condition.clear must be ≤ trigger for "above"');
        if (input.type === 'below' && clear < trigger) errors.push('condition.clear must be ≥ trigger for "below"');
      }
      return errors.length > before || trigger === undefined ? undefined : { type: input.type, trigger, ...(clear === undefined ? {} : { clear }) };
    }
    case 'outside': {
      const low = numberField(input, 'low', errors);
      const high = numberField(input, 'high', errors);
      const lowClear = numberField(input, 'lowClear', errors, true) ?? low;
      const highClear = numberField(input, 'highClear', errors, true) ?? high;
      if (low === undefined || high === undefined || lowClear === undefined || highClear === undefined) return undefined;
      if (!(low < high)) errors.push('condition.low must be < high');
      if (!(low <= lowClear && lowClear <= highClear && highClear <= high)) errors.push('condition needs low ≤ lowClear ≤ highClear ≤ high');
      return errors.length > before ? undefined : { type: 'outside', low, high, lowClear, highClear };
    }
    case 'rate': {
      const perSecond = numberField(input, 'perSecond', errors);
      const clearPerSecond = numberField(input, 'clearPerSecond', errors, true);
      const direction = input.direction;
      if (direction !== 'rise' && direction !== 'fall' && direction !== 'either') errors.push('condition.direction must be "rise", "fall" or "either"');
      if (perSecond !== undefined && perSecond <= 0) errors.push('condition.perSecond must be > 0');
      if (perSecond !== undefined && clearPerSecond !== undefined && (clearPerSecond > perSecond || clearPerSecond < 0)) {
        errors.push('condition.clearPerSecond must be between 0 and perSecond');
      }
      if (errors.length > before || perSecond === undefined) return undefined;
      return { type: 'rate', direction: direction as RateCondition['direction'], perSecond, ...(clearPerSecond === undefined ? {} : { clearPerSecond }) };
    }
    case 'flatline': {
      const seconds = numberField(input, 'seconds', errors);
      const tolerance = numberField(input, 'tolerance', errors, true) ?? 0;
      if (seconds !== undefined && seconds <= 0) errors.push('condition.seconds must be > 0');
      if (tolerance < 0) errors.push('condition.tolerance must be ≥ 0');
      return errors.length > before || seconds === undefined ? undefined : { type: 'flatline', seconds, tolerance };
    }
    default:
      errors.push('condition.type must be one of above, below, outside, rate, flatline');
      return undefined;
  }
}

function validateScope(input: unknown, errors: string[]): RuleScope | undefined {
  if (!isRecord(input)) {
    errors.push('scope must be an object');
    return undefined;
  }
  for (const key of Object.keys(input)) {
    if (!(SCOPE_KEYS as readonly string[]).includes(key)) errors.push(`scope.${key} is not a scope field`);
  }
  const scope: Partial<RuleScope> = {};
  for (const key of SCOPE_KEYS) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > 128) errors.push(`scope.${key} must be a non-empty string`);
    else scope[key] = value;
  }
  if (scope.metric === undefined) {
    if (input.metric === undefined) errors.push('scope.metric is required');
    return undefined;
  }
  return scope as RuleScope;
}

/**
 * Checks an untrusted rule document (API body, seed file). `knownMetric` lets the caller
 * refuse metrics the catalogue does not have; the core does not import the catalogue.
 */
/**
 * Series a rule may watch that no device sends: `aqi` is an air-quality station's hourly
 * (real-time) AQI of HJ 633-2012, computed from its 1-hour rollups once each hour is
 * complete (services/alerts/aqi-series.ts).
 */
export const DERIVED_METRICS = ['aqi'] as const;

const isDerived = (key: string) => (DERIVED_METRICS as readonly string[]).includes(key);

export function validateRule(input: unknown, knownMetric: (key: string) => boolean = () => true): RuleValidation {
  if (!isRecord(input)) return { ok: false, errors: ['a rule must be an object'] };
  const errors: string[] = [];
  const id = input.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) errors.push('id must be 1–64 of a-z 0-9 . _ -, starting with a letter or digit');
  const name = input.name;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200) errors.push('name must be a non-empty string of at most 200 characters');
  const scope = validateScope(input.scope, errors);
  if (scope !== undefined && !knownMetric(scope.metric) && !isDerived(scope.metric)) {
    errors.push(`scope.metric "${scope.metric}" is not in the metric catalogue (nor a derived series: ${DERIVED_METRICS.join(', ')})`);
  }
  const condition = validateCondition(input.condition, errors);
  const forSeconds = input.forSeconds ?? 0;
  if (!finite(forSeconds) || forSeconds < 0) errors.push('forSeconds must be a number ≥ 0');
  const severity = input.severity;
  if (!(SEVERITIES as readonly unknown[]).includes(severity)) errors.push(`severity must be one of ${SEVERITIES.join(', ')}`);
  const source = input.source;
  if (source !== undefined && (typeof source !== 'string' || source.length > 500)) errors.push('source must be a string of at most 500 characters');
  const enabled = input.enabled ?? true;
  if (typeof enabled !== 'boolean') errors.push('enabled must be true or false');
  if (errors.length > 0 || scope === undefined || condition === undefined) return { ok: false, errors };
  return {
    ok: true,
    rule: {
      id: id as string, name: name as string, scope, condition, forSeconds: forSeconds as number, severity: severity as Severity,
      ...(source === undefined ? {} : { source: source as string }), enabled: enabled as boolean,
    },
  };
}

/** What the evaluator knows about the device a reading came from. */
export interface SeriesContext {
  deviceId: string;
  metric: string;
  domain?: string;
  district?: string;
  profile?: string;
}

export function ruleApplies(rule: AlertRule, series: SeriesContext): boolean {
  const { scope } = rule;
  return rule.enabled && scope.metric === series.metric
    && (scope.deviceId === undefined || scope.deviceId === series.deviceId)
    && (scope.domain === undefined || scope.domain === series.domain)
    && (scope.district === undefined || scope.district === series.district)
    && (scope.profile === undefined || scope.profile === series.profile);
}
