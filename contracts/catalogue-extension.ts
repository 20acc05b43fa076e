/**
 * METRIC_CATALOGUE_FILE: metrics, aliases and units added by configuration, merged with
 * the built-in catalogue at start (docs/metrics.md, "Extending the catalogue"):
 *
 *   units:   { "mg/Nm3": { symbol: "mg/Nm³", spellings: ["mg/Nm3"] } }
 *   metrics: [{ key, name, domain, unit, kind, min, max, symbol?, aliases?, units? }]
 *   extend:  { pm2_5: { aliases: ["fine_dust"], units: [{ unit: "ug/L", factor: 1 }] } }
 *
 * Built-in metrics cannot be redefined or removed, only given more names and units, so
 * stored readings keep their meaning; storage numbers new keys on load.
 */
import { BUILTIN_METRICS } from './builtin-metrics.js';
import {
  DocumentProblems, isFields, oneOf, onlyKeys, readExact, readNumber, readString, readStringList, type Fields,
} from './document-fields.js';
import { parseRational } from './exact-decimal.js';
import {
  buildCatalogue, CatalogueError, DOMAINS, METRIC_KINDS, type AcceptedUnit, type MetricCatalogue, type MetricDefinition,
} from './metric-catalogue.js';
import { BUILTIN_UNITS, type UnitSpelling } from './units.js';

export const METRIC_KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

function readUnits(fields: Fields, where: string, knownUnits: Record<string, UnitSpelling>, problems: DocumentProblems): AcceptedUnit[] {
  const value = fields.units;
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(where, '"units" must be a list of { unit, factor, offset }');
    return [];
  }
  return value.flatMap((entry, index): AcceptedUnit[] => {
    const at = `${where} units[${index}]`;
    if (!isFields(entry)) {
      problems.add(at, 'must be an object { unit, factor, offset }');
      return [];
    }
    onlyKeys(entry, ['unit', 'factor', 'offset'], at, problems);
    const unit = readString(entry, 'unit', at, problems, { maxLength: 32 });
    const factor = readExact(entry, 'factor', '1', at, problems);
    const offset = readExact(entry, 'offset', '0', at, problems);
    if (unit !== undefined && !Object.hasOwn(knownUnits, unit)) problems.add(at, `unit "${unit}" is not a known unit code; declare it under "units:" at the top`);
    const parsedFactor = parseRational(factor);
    if (parsedFactor === undefined || parsedFactor.n === 0n) problems.add(at, `factor "${factor}" must be a non-zero number or fraction`);
    if (parseRational(offset) === undefined) problems.add(at, `offset "${offset}" must be a number or fraction`);
    return unit === undefined ? [] : [{ unit, factor, offset }];
  });
}

function readUnitRegistry(value: unknown, problems: DocumentProblems): Record<string, UnitSpelling> {
  const units: Record<string, UnitSpelling> = { ...BUILTIN_UNITS };
  if (value === undefined) return units;
  if (!isFields(value)) {
    problems.add('units', 'must map unit codes to { symbol, spellings }');
    return units;
  }
  for (const [code, entry] of Object.entries(value)) {
    const at = `units.${code}`;
    if (!isFields(entry) || code.trim() === '' || code.length > 32) {
      problems.add(at, 'must be { symbol, spellings } under a unit code of at most 32 characters');
      continue;
    }
    onlyKeys(entry, ['symbol', 'spellings'], at, problems);
    const known = Object.hasOwn(units, code) ? units[code] : undefined;
    const symbol = readString(entry, 'symbol', at, problems, { optional: true, maxLength: 32 }) ?? known?.symbol ?? code;
    units[code] = { symbol, spellings: [...(known?.spellings ?? []), ...readStringList(entry, 'spellings', at, problems)] };
  }
  return units;
}

function readMetric(entry: unknown, where: string, units: Record<string, UnitSpelling>, problems: DocumentProblems): MetricDefinition | undefined {
  if (!isFields(entry)) {
    problems.add(where, 'must be an object');
    return undefined;
  }
  const at = typeof entry.key === 'string' ? `${where} (${entry.key})` : where;
  onlyKeys(entry, ['key', 'name', 'domain', 'unit', 'symbol', 'kind', 'min', 'max', 'aliases', 'units'], at, problems);
  const key = readString(entry, 'key', at, problems, { pattern: METRIC_KEY_PATTERN, patternText: 'must be lower-case letters, digits and "_", starting with a letter' });
  const name = readString(entry, 'name', at, problems);
  const domain = oneOf(entry.domain, DOMAINS, 'domain', at, problems);
  const unit = readString(entry, 'unit', at, problems, { maxLength: 32 });
  const kind = oneOf(entry.kind, METRIC_KINDS, 'kind', at, problems);
  const min = readNumber(entry, 'min', at, problems);
  const max = readNumber(entry, 'max', at, problems);
  if (min !== undefined && max !== undefined && !(min < max)) problems.add(at, '"min" must be below "max"');
  if (kind === 'state' && (min !== 0 || max !== 1)) problems.add(at, 'a state metric has min 0 and max 1');
  if (unit !== undefined && !Object.hasOwn(units, unit)) problems.add(at, `unit "${unit}" is not a known unit code; declare it under "units:" at the top`);
  const symbol = readString(entry, 'symbol', at, problems, { optional: true, maxLength: 32 }) ?? (unit !== undefined && Object.hasOwn(units, unit) ? units[unit]?.symbol : unit) ?? '';
  const aliases = readStringList(entry, 'aliases', at, problems);
  const accepted = readUnits(entry, at, units, problems);
  if (key === undefined || name === undefined || domain === undefined || unit === undefined || kind === undefined || min === undefined || max === undefined) return undefined;
  return { key, name, domain, unit, symbol, kind, min, max, aliases, units: accepted };
}

/**
 * Validates an extension document and merges it with the built-in metrics. Every problem
 * is reported at once, each naming `source` and the entry; throws CatalogueError.
 */
export function extendCatalogue(document: unknown, source: string, base: readonly MetricDefinition[] = BUILTIN_METRICS): MetricCatalogue {
  const problems = new DocumentProblems();
  if (!isFields(document)) throw new CatalogueError([`${source}: must be an object with "metrics", "extend" and/or "units"`]);
  onlyKeys(document, ['metrics', 'extend', 'units'], '(top level)', problems);
  const units = readUnitRegistry(document.units, problems);
  const definitions = new Map(base.map((definition) => [definition.key, definition]));

  const metrics = document.metrics ?? [];
  if (!Array.isArray(metrics)) problems.add('metrics', 'must be a list');
  else {
    for (const [index, entry] of metrics.entries()) {
      const definition = readMetric(entry, `metrics[${index}]`, units, problems);
      if (definition === undefined) continue;
      if (definitions.has(definition.key)) {
        problems.add(`metrics[${index}] (${definition.key})`, 'a metric with this key exists; use "extend:" to add aliases or units');
        continue;
      }
      definitions.set(definition.key, definition);
    }
  }

  const extend = document.extend ?? {};
  if (!isFields(extend)) problems.add('extend', 'must map metric keys to { aliases, units }');
  else {
    for (const [key, entry] of Object.entries(extend)) {
      const at = `extend.${key}`;
      const definition = definitions.get(key);
      if (definition === undefined) problems.add(at, `no metric "${key}" to extend`);
      if (!isFields(entry)) {
        problems.add(at, 'must be { aliases, units }');
        continue;
      }
      onlyKeys(entry, ['aliases', 'units'], at, problems);
      const aliases = readStringList(entry, 'aliases', at, problems);
      const accepted = readUnits(entry, at, units, problems);
      if (definition !== undefined) {
        definitions.set(key, { ...definition, aliases: [...definition.aliases, ...aliases], units: [...definition.units, ...accepted] });
      }
    }
  }
  if (problems.list.length > 0) throw new CatalogueError(problems.list.map((problem) => `${source}: ${problem}`));
  try {
    return buildCatalogue([...definitions.values()], units);
  } catch (error) {
    if (error instanceof CatalogueError) throw new CatalogueError(error.problems.map((problem) => `${source}: ${problem}`));
    throw error;
  }
}
