/**
 * The metric catalogue: every metric the platform stores, keyed by canonical key, with
 * the names and units devices may use for it. A reading whose metric is not here, whose
 * unit the metric does not accept, or whose value is outside the physical range is
 * quarantined rather than stored as good (DESIGN.md, "Canonical reading").
 */
import { BUILTIN_METRICS } from './builtin-metrics.js';
import { convertExactly, parseRational, type Rational } from './exact-decimal.js';
import { BUILTIN_UNITS, normaliseUnitText, type UnitSpelling } from './units.js';

export const DOMAINS = ['environment', 'water', 'grid', 'safety'] as const;
export type Domain = (typeof DOMAINS)[number];

/** gauge: a level at an instant; counter: a running total (energy, rainfall); state: 0/1 (alarm, open). */
export const METRIC_KINDS = ['gauge', 'counter', 'state'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/** A unit a metric accepts besides its canonical one: canonical = (value + offset) × factor. */
export interface AcceptedUnit {
  unit: string;
  /** Exact rational, e.g. "1000", "5/9", "46.0055/24.45". */
  factor: string;
  /** Exact rational added before the factor, e.g. "-32" for °F → °C. */
  offset: string;
}

export interface MetricDefinition {
  key: string;
  name: string;
  domain: Domain;
  /** Canonical unit as a UCUM-style code (`ug/m3`, `Cel`, `kPa`). */
  unit: string;
  /** Display symbol (`µg/m³`, `°C`). */
  symbol: string;
  kind: MetricKind;
  /** Inclusive physical range in the canonical unit; values outside it are quarantined. */
  min: number;
  max: number;
  /** Other names devices use, matched without regard to case (`PM2.5`, HJ 212 `a34004`). */
  aliases: readonly string[];
  /** Units converted to the canonical one. */
  units: readonly AcceptedUnit[];
}

export interface UnitConversion {
  /** The unit code the sent unit was recognised as. */
  unit: string;
  convert(value: number): number;
}

export interface MetricCatalogue {
  readonly metrics: ReadonlyMap<string, MetricDefinition>;
  readonly units: Readonly<Record<string, UnitSpelling>>;
  /** By canonical key or alias, ignoring case. */
  find(name: string): MetricDefinition | undefined;
  /** How a value sent in `unit` becomes canonical; `undefined` when the metric does not accept it. */
  conversion(definition: MetricDefinition, unit: string): UnitConversion | undefined;
}

export class CatalogueError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid metric catalogue:\n  ${problems.join('\n  ')}`);
    this.name = 'CatalogueError';
  }
}

function spellingsOf(code: string, units: Readonly<Record<string, UnitSpelling>>): string[] {
  const entry = Object.hasOwn(units, code) ? units[code] : undefined;
  return [code, ...(entry === undefined ? [] : [entry.symbol, ...entry.spellings])]
    .map(normaliseUnitText)
    .filter((text) => text !== '');
}

function rationalOrProblem(text: string, where: string, problems: string[]): Rational {
  const value = parseRational(text);
  if (value === undefined) problems.push(`${where}: "${text}" is not an exact number or fraction`);
  return value ?? { n: 1n, d: 1n };
}

/** Builds lookups and checks that names and unit spellings are unambiguous; throws CatalogueError. */
export function buildCatalogue(
  definitions: readonly MetricDefinition[],
  units: Readonly<Record<string, UnitSpelling>> = BUILTIN_UNITS,
): MetricCatalogue {
  const problems: string[] = [];
  const metrics = new Map<string, MetricDefinition>();
  const byName = new Map<string, MetricDefinition>();
  const conversions = new Map<string, Map<string, UnitConversion>>();

  const spellingOwner = new Map<string, string>();
  for (const code of Object.keys(units)) {
    for (const spelling of new Set(spellingsOf(code, units))) {
      const owner = spellingOwner.get(spelling);
      if (owner !== undefined && owner !== code) problems.push(`unit spelling "${spelling}" is used by both ${owner} and ${code}`);
      spellingOwner.set(spelling, code);
    }
  }

  // Keys first, so a clash is reported on the alias that causes it.
  for (const definition of definitions) {
    if (metrics.has(definition.key) || byName.has(definition.key.toLowerCase())) problems.push(`metric ${definition.key}: defined twice`);
    metrics.set(definition.key, Object.freeze({ ...definition, aliases: Object.freeze([...definition.aliases]), units: Object.freeze([...definition.units]) }));
    byName.set(definition.key.toLowerCase(), definition);
  }
  for (const definition of definitions) {
    const where = `metric ${definition.key}`;
    for (const name of definition.aliases) {
      const other = byName.get(name.toLowerCase());
      if (other !== undefined && other.key !== definition.key) problems.push(`${where}: name "${name}" is also ${other.key}`);
      byName.set(name.toLowerCase(), definition);
    }
    const table = new Map<string, UnitConversion>();
    const accepted = [{ unit: definition.unit, factor: '1', offset: '0' }, ...definition.units];
    const codes = accepted.map((entry) => entry.unit);
    for (const code of new Set(codes.filter((code, index) => codes.indexOf(code) !== index))) problems.push(`${where}: unit ${code} is listed more than once`);
    for (const [index, entry] of accepted.entries()) {
      const factor = rationalOrProblem(entry.factor, `${where} unit ${entry.unit} factor`, problems);
      const offset = rationalOrProblem(entry.offset, `${where} unit ${entry.unit} offset`, problems);
      const conversion: UnitConversion = { unit: entry.unit, convert: (value) => convertExactly(value, factor, offset) };
      const spellings = spellingsOf(entry.unit, units);
      if (index === 0) spellings.push(normaliseUnitText(definition.symbol));
      for (const spelling of spellings.filter((text) => text !== '')) {
        const existing = table.get(spelling);
        if (existing !== undefined && existing.unit !== entry.unit) {
          problems.push(`${where}: unit "${spelling}" would mean both ${existing.unit} and ${entry.unit}`);
        }
        if (existing === undefined) table.set(spelling, conversion);
      }
    }
    conversions.set(definition.key, table);
  }
  if (problems.length > 0) throw new CatalogueError(problems);

  return {
    metrics,
    units,
    find: (name) => metrics.get(name) ?? byName.get(name.toLowerCase()),
    conversion: (definition, unit) => conversions.get(definition.key)?.get(normaliseUnitText(unit)),
  };
}

/** The catalogue built into the platform (extended at start by METRIC_CATALOGUE_FILE). */
export const BUILTIN_CATALOGUE: MetricCatalogue = buildCatalogue(BUILTIN_METRICS);

/** The built-in metrics by key. */
export const METRIC_CATALOGUE: ReadonlyMap<string, MetricDefinition> = BUILTIN_CATALOGUE.metrics;

export function isDomain(value: unknown): value is Domain {
  return typeof value === 'string' && (DOMAINS as readonly string[]).includes(value);
}
