import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../config/config-schema.js';
import { API_PROBLEMS, MQTT_REFUSALS, QUARANTINE_REASONS } from '../contracts/error-codes.js';

const REPO = path.resolve(import.meta.dirname, '..');

/** Rows of the first markdown table after `heading`, as arrays of trimmed cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`heading "${heading}" not found`);
  const lines = markdown.slice(start + heading.length + 2).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

describe('documentation agrees with the code', () => {
  it.each([
    ['## Quarantine reasons', QUARANTINE_REASONS],
    ['## MQTT refusals', MQTT_REFUSALS],
    ['## API problem types', API_PROBLEMS],
  ])('docs/errors.md %s lists exactly the catalogue, with its meanings', async (heading, catalogue) => {
    const markdown = await readFile(path.join(REPO, 'docs/errors.md'), 'utf8');
    const documented = Object.fromEntries(tableAfter(markdown, heading).map(([code, meaning]) => [unquote(code ?? ''), meaning?.replaceAll('\\|', '|')]));
    expect(documented).toEqual(catalogue);
  });

  it('the README configuration table lists every variable with its default', async () => {
    const markdown = await readFile(path.join(REPO, 'README.md'), 'utf8');
    const rows = tableAfter(markdown, '## Configuration');
    expect(rows.map(([name]) => unquote(name ?? ''))).toEqual(CONFIG_VARIABLES.map((variable) => variable.env));
    for (const [name, defaultText] of rows) {
      const variable = CONFIG_VARIABLES.find((candidate) => candidate.env === unquote(name ?? ''));
      expect(unquote(defaultText ?? ''), `default of ${name}`).toBe(variable?.defaultText);
    }
  });
});
