import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { extendCatalogue } from '../contracts/catalogue-extension.js';
import { BUILTIN_CATALOGUE } from '../contracts/metric-catalogue.js';
import { withMetricTable } from '../contracts/metric-table.js';

const FILE = path.resolve(import.meta.dirname, '..', 'docs', 'metrics.md');

describe('docs/metrics.md', () => {
  it('holds the table of the built-in catalogue as generated (npm run docs:metrics rewrites it)', async () => {
    const markdown = await readFile(FILE, 'utf8');
    expect(markdown).toBe(withMetricTable(markdown, BUILTIN_CATALOGUE));
    const keys = [...markdown.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(keys.sort()).toEqual([...BUILTIN_CATALOGUE.metrics.keys()].sort());
  });

  it('shows an extension file that the platform accepts', async () => {
    const markdown = await readFile(FILE, 'utf8');
    const example = /## Extending the catalogue[\s\S]*?```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
    expect(example).toBeDefined();
    const catalogue = extendCatalogue(parse(example!), 'docs/metrics.md');
    expect(catalogue.find('NOx')?.key).toBe('nox');
    expect(catalogue.conversion(catalogue.find('nox')!, 'µg/m³')?.convert(1500)).toBe(1.5);
  });
});
