import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { extendCatalogue } from './catalogue-extension.js';
import { CatalogueError } from './metric-catalogue.js';

const FILE = '/etc/urbansense/metrics.yaml';

function problemsOf(document: unknown): readonly string[] {
  try {
    extendCatalogue(document, FILE);
  } catch (error) {
    if (error instanceof CatalogueError) return error.problems;
    throw error;
  }
  return [];
}

describe('extending the catalogue by configuration', () => {
  const document = parse(`
units:
  mg/Nm3: { symbol: mg/Nm³, spellings: [mg/Nm³] }
metrics:
  - key: nox
    name: Nitrogen oxides (stack, dry, normal state)
    domain: environment
    unit: mg/Nm3
    kind: gauge
    min: 0
    max: 5000
    aliases: [a21002, NOx]
  - key: hydrant_open
    name: Fire hydrant opened
    domain: safety
    unit: "1"
    kind: state
    min: 0
    max: 1
extend:
  pm2_5:
    aliases: [fine_dust]
  temperature:
    units:
      - { unit: "[degF]", factor: 5/9, offset: -32 }
`);

  it('adds metrics, aliases and units to the built-in ones', () => {
    expect(problemsOf({ ...document, extend: { pm2_5: { aliases: ['fine_dust'] } } })).toEqual([]);
    const catalogue = extendCatalogue({ ...document, extend: { pm2_5: { aliases: ['fine_dust'] } } }, FILE);
    expect(catalogue.find('NOx')?.key).toBe('nox');
    expect(catalogue.find('a21002')?.symbol).toBe('mg/Nm³');
    expect(catalogue.conversion(catalogue.find('nox')!, 'mg/Nm³')?.convert(12)).toBe(12);
    expect(catalogue.find('FINE_DUST')?.key).toBe('pm2_5');
    expect(catalogue.find('hydrant_open')?.kind).toBe('state');
    expect(catalogue.metrics.get('pm2_5')?.units.map((unit) => unit.unit)).toEqual(['mg/m3', 'ng/m3']);
  });

  it('keeps built-in metrics first, so their order and meaning do not change', () => {
    const keys = [...extendCatalogue({ units: document.units, metrics: document.metrics }, FILE).metrics.keys()];
    expect(keys.slice(-2)).toEqual(['nox', 'hydrant_open']);
    expect(keys[0]).toBe('pm2_5');
  });

  it('reports every problem at once, naming the file and the entry', () => {
    expect(problemsOf(document)).toEqual([`${FILE}: metric temperature: unit [degF] is listed more than once`]);
    expect(problemsOf({
      metrics: [
        { key: 'pm2_5', name: 'again', domain: 'environment', unit: 'ug/m3', kind: 'gauge', min: 0, max: 1 },
        { key: 'Bad Key', name: 'x', domain: 'space', unit: 'furlong', kind: 'level', min: 5, max: 1, colour: 'red' },
        { key: 'alarm', name: 'x', domain: 'safety', unit: '1', kind: 'state', min: 0, max: 2 },
        'not an object',
      ],
      extend: { nothing: { aliases: ['x'] }, pm10: { units: [{ unit: 'mg/m3', factor: 0 }] } },
      colour: 'red',
    })).toEqual([
      `${FILE}: (top level): unknown field "colour" (allowed: metrics, extend, units)`,
      `${FILE}: metrics[0] (pm2_5): a metric with this key exists; use "extend:" to add aliases or units`,
      `${FILE}: metrics[1] (Bad Key): unknown field "colour" (allowed: key, name, domain, unit, symbol, kind, min, max, aliases, units)`,
      `${FILE}: metrics[1] (Bad Key): "key" must be lower-case letters, digits and "_", starting with a letter, got "Bad Key"`,
      `${FILE}: metrics[1] (Bad Key): "domain" must be one of environment, water, grid, safety`,
      `${FILE}: metrics[1] (Bad Key): "kind" must be one of gauge, counter, state`,
      `${FILE}: metrics[1] (Bad Key): "min" must be below "max"`,
      `${FILE}: metrics[1] (Bad Key): unit "furlong" is not a known unit code; declare it under "units:" at the top`,
      `${FILE}: metrics[2] (alarm): a state metric has min 0 and max 1`,
      `${FILE}: metrics[3]: must be an object`,
      `${FILE}: extend.nothing: no metric "nothing" to extend`,
      `${FILE}: extend.pm10 units[0]: factor "0" must be a non-zero number or fraction`,
    ]);
  });

  it('refuses an alias that is already another metric name', () => {
    expect(problemsOf({ extend: { pm10: { aliases: ['PM2.5'] } } })).toEqual([`${FILE}: metric pm10: name "PM2.5" is also pm2_5`]);
  });

  it('refuses a document that is not an object', () => {
    expect(problemsOf(['metrics'])).toEqual([`${FILE}: must be an object with "metrics", "extend" and/or "units"`]);
  });
});
