import { describe, expect, it } from 'vitest';
import { ruleApplies, validateRule, type AlertRule, type RuleCondition } from './alert-rule.js';
import { evaluateReading, evaluateSeries, INITIAL_STATE, type RulePoint } from './evaluate-rule.js';

const rule = (condition: RuleCondition, forSeconds = 0) => ({ condition, forSeconds });
/** Readings one per 10 s from t = 0, as `value@seconds` pairs via the values list. */
const every10s = (...values: number[]): RulePoint[] => values.map((value, i) => ({ timeMs: i * 10_000, value }));
const kinds = (points: RulePoint[], r: ReturnType<typeof rule>) =>
  evaluateSeries(r, INITIAL_STATE, points).transitions.map((t) => `${t.kind}@${t.timeMs / 1000}`);

describe('rule evaluation (state machine per rule and series)', () => {
  it.each([
    // name, rule, values every 10 s, expected transitions
    ['above triggers at the setpoint (inclusive)', rule({ type: 'above', trigger: 20 }), [5, 19.9, 20, 25], ['open@20']],
    ['above clears below the setpoint without hysteresis', rule({ type: 'above', trigger: 20 }), [25, 19.9], ['open@0', 'clear@10']],
    ['hysteresis holds the alert between clear and trigger', rule({ type: 'above', trigger: 20, clear: 15 }), [25, 19, 16, 15, 14.9], ['open@0', 'clear@40']],
    ['flapping around the trigger opens once with hysteresis', rule({ type: 'above', trigger: 20, clear: 15 }), [21, 19, 21, 19, 21, 19], ['open@0']],
    ['flapping around the trigger with a hold never opens', rule({ type: 'above', trigger: 20 }, 15), [21, 19, 21, 19, 21, 19], []],
    ['a hold opens once the condition held forSeconds', rule({ type: 'above', trigger: 20 }, 20), [21, 22, 23, 24], ['open@20']],
    ['a hold restarts after a dip', rule({ type: 'above', trigger: 20 }, 20), [21, 22, 10, 23, 24, 25], ['open@50']],
    ['below with hysteresis (pressure floor)', rule({ type: 'below', trigger: 140, clear: 160 }), [300, 139, 150, 161], ['open@10', 'clear@30']],
    ['outside a band, both sides', rule({ type: 'outside', low: 49.8, high: 50.2, lowClear: 49.9, highClear: 50.1 }), [50, 50.25, 50.15, 50.05, 49.7, 49.95], ['open@10', 'clear@30', 'open@40', 'clear@50']],
    ['rate of fall (pressure collapsing)', rule({ type: 'rate', direction: 'fall', perSecond: 5 }), [300, 299, 200, 195, 195], ['open@20', 'clear@30']],
    ['rate rise ignores falls', rule({ type: 'rate', direction: 'rise', perSecond: 5 }), [300, 100, 0], []],
    ['flatline opens after the run lasted its seconds, clears on change', rule({ type: 'flatline', seconds: 30, tolerance: 0.05 }), [7, 7.01, 7, 7.02, 7.03, 8], ['open@30', 'clear@50']],
  ] as const)('%s', (_name, r, values, expected) => {
    expect(kinds(every10s(...values), r)).toEqual(expected);
  });

  it('ignores late readings explicitly and keeps the state', () => {
    const r = rule({ type: 'above', trigger: 20 });
    const open = evaluateReading(r, INITIAL_STATE, { timeMs: 10_000, value: 30 });
    expect(open.transition?.kind).toBe('open');
    const late = evaluateReading(r, open.state, { timeMs: 5_000, value: 0 });
    expect(late).toEqual({ state: open.state, late: true });
    const replay = evaluateReading(r, open.state, { timeMs: 10_000, value: 0 });
    expect(replay.late).toBe(true);
    expect(evaluateReading(r, open.state, { timeMs: 10_001, value: 0 }).transition?.kind).toBe('clear');
  });

  it('sorts a batch by source time, so a batch in any order gives the same result', () => {
    const r = rule({ type: 'above', trigger: 20 }, 10);
    const points = every10s(10, 25, 26, 5);
    const shuffled = [points[2]!, points[0]!, points[3]!, points[1]!];
    expect(evaluateSeries(r, INITIAL_STATE, shuffled)).toEqual(evaluateSeries(r, INITIAL_STATE, points));
    expect(kinds(points, r)).toEqual(['open@20', 'clear@30']);
  });

  it('continues across batches from the stored state (JSON round trip)', () => {
    const r = rule({ type: 'above', trigger: 20 }, 20);
    const first = evaluateSeries(r, INITIAL_STATE, every10s(21, 22));
    expect(first.transitions).toEqual([]);
    const stored = JSON.parse(JSON.stringify(first.state));
    const second = evaluateSeries(r, stored, [{ timeMs: 20_000, value: 23 }]);
    expect(second.transitions).toEqual([{ kind: 'open', timeMs: 20_000, value: 23 }]);
  });
});

describe('rule validation', () => {
  const good = { id: 'gas-lel-warning', name: 'Combustible gas', scope: { metric: 'gas_lel', domain: 'safety' }, condition: { type: 'above', trigger: 20, clear: 15 }, severity: 'warning' };

  it('accepts a rule and fills defaults', () => {
    const result = validateRule(good);
    expect(result).toEqual({ ok: true, rule: { ...good, forSeconds: 0, enabled: true } });
  });

  it.each([
    [{ ...good, id: 'Bad Id' }, 'id must be'],
    [{ ...good, scope: { domain: 'safety' } }, 'scope.metric is required'],
    [{ ...good, scope: { metric: 'gas_lel', city: 'x' } }, 'scope.city is not a scope field'],
    [{ ...good, condition: { type: 'above', trigger: 20, clear: 25 } }, 'clear must be ≤ trigger'],
    [{ ...good, condition: { type: 'below', trigger: 140, clear: 100 } }, 'clear must be ≥ trigger'],
    [{ ...good, condition: { type: 'outside', low: 50.2, high: 49.8 } }, 'low must be < high'],
    [{ ...good, condition: { type: 'rate', direction: 'down', perSecond: 1 } }, 'direction must be'],
    [{ ...good, condition: { type: 'flatline', seconds: 0 } }, 'seconds must be > 0'],
    [{ ...good, condition: { type: 'nope' } }, 'condition.type must be'],
    [{ ...good, condition: { type: 'above', trigger: Number.NaN } }, 'trigger must be a finite number'],
    [{ ...good, severity: 'panic' }, 'severity must be'],
    [{ ...good, forSeconds: -1 }, 'forSeconds must be'],
  ])('refuses %j', (input, message) => {
    const result = validateRule(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain(message);
  });

  it('refuses a metric the catalogue does not know', () => {
    const result = validateRule(good, (key) => key === 'pm2_5');
    expect(result.ok).toBe(false);
  });

  it('applies a rule only to series in its scope', () => {
    const validated = validateRule({ ...good, scope: { metric: 'gas_lel', domain: 'safety', district: 'futian' } });
    if (!validated.ok) throw new Error(validated.errors.join());
    const r: AlertRule = validated.rule;
    expect(ruleApplies(r, { deviceId: 'd1', metric: 'gas_lel', domain: 'safety', district: 'futian' })).toBe(true);
    expect(ruleApplies(r, { deviceId: 'd1', metric: 'gas_lel', domain: 'safety', district: 'nanshan' })).toBe(false);
    expect(ruleApplies(r, { deviceId: 'd1', metric: 'pm2_5', domain: 'safety', district: 'futian' })).toBe(false);
    expect(ruleApplies({ ...r, enabled: false }, { deviceId: 'd1', metric: 'gas_lel', domain: 'safety', district: 'futian' })).toBe(false);
  });
});

describe('default rules', () => {
  it('are valid, have unique ids, cite a source, and name catalogue metrics', async () => {
    const { DEFAULT_RULES } = await import('./default-rules.js');
    const { BUILTIN_METRICS } = await import('../../contracts/builtin-metrics.js');
    const keys = new Set(BUILTIN_METRICS.map((metric) => metric.key));
    for (const rule of DEFAULT_RULES) {
      expect(validateRule(rule, (key) => keys.has(key))).toEqual({ ok: true, rule });
      expect(rule.source?.length).toBeGreaterThan(20);
    }
    expect(new Set(DEFAULT_RULES.map((rule) => rule.id)).size).toBe(DEFAULT_RULES.length);
  });

  it('open on a gas leak at 20 and 50 %LEL and on a pressure collapse held for a minute', async () => {
    const { DEFAULT_RULES } = await import('./default-rules.js');
    const byId = new Map(DEFAULT_RULES.map((r) => [r.id, r]));
    expect(kinds(every10s(10, 20, 49, 50, 30), byId.get('gas-lel-warning')!)).toEqual(['open@10']);
    expect(kinds(every10s(10, 20, 49, 50, 30), byId.get('gas-lel-critical')!)).toEqual(['open@30', 'clear@40']);
    expect(kinds(every10s(300, 130, 130, 130, 130, 130, 130, 130, 170), byId.get('water-pressure-low')!)).toEqual(['open@70', 'clear@80']);
    expect(kinds(every10s(0, 1, 1, 0), byId.get('smoke-alarm')!)).toEqual(['open@10', 'clear@30']);
  });
});

describe('ALERT_RULES_FILE documents', () => {
  it('accepts a list or { rules }, and names every problem by its place', async () => {
    const { parseRulesDocument } = await import('./rules-file.js');
    const rule = { id: 'a', name: 'A', scope: { metric: 'pm2_5' }, condition: { type: 'above', trigger: 75 }, severity: 'warning' };
    expect(parseRulesDocument([rule], 'r.yaml', () => true).map((r) => r.id)).toEqual(['a']);
    expect(parseRulesDocument({ rules: [rule] }, 'r.yaml', () => true)).toHaveLength(1);
    expect(() => parseRulesDocument({ nope: 1 }, 'r.yaml', () => true)).toThrow(/must be a list/);
    expect(() => parseRulesDocument([rule, rule, { ...rule, id: 'b', severity: 'panic' }], 'r.yaml', () => true))
      .toThrow(/rules\[1\]: id "a" appears twice[\s\S]*rules\[2\]: severity must be/);
  });
});
