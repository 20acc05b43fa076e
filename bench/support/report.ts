import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineDescription } from './machine.js';
import type { Figure, ScenarioResult } from './scenario.js';

/** One run of `npm run bench`: what it ran on, how, and what came out. */
export interface BenchRun {
  startedAt: string;
  command: string;
  quick: boolean;
  machine: MachineDescription;
  /** Settings of the run's servers (PostgreSQL durability, Redis persistence). */
  servers: Record<string, string>;
  results: ScenarioResult[];
  /** Scenarios that threw, with the error. */
  failures: { name: string; error: string }[];
  /** Load average at the start and end of each scenario, so a noisy figure can be recognised. */
  loadAverages: Record<string, { start: string; end: string }>;
}

export function formatFigure(figure: Figure): string {
  const value = Number.isInteger(figure.value) ? figure.value.toLocaleString('en') : String(figure.value);
  return `${value} ${figure.unit}`;
}

function targetCell(figure: Figure): string {
  if (figure.target === undefined) return '';
  return `${figure.target} ${figure.met === true ? '✅ met' : '❌ missed'}`;
}

/** One scenario as Markdown: its figures as a table, its configuration and notes below. */
export function scenarioMarkdown(result: ScenarioResult, loadAverage?: { start: string; end: string }): string {
  const lines = [`### ${result.name}: ${result.title}`, '', '| figure | value | target |', '|---|---:|---|'];
  for (const [name, figure] of Object.entries(result.figures)) lines.push(`| ${name.replaceAll('_', ' ')} | ${formatFigure(figure)} | ${targetCell(figure)} |`);
  lines.push('');
  if (result.sent !== undefined) lines.push(`Readings sent (acknowledged) ${result.sent.toLocaleString('en')}, stored ${(result.stored ?? 0).toLocaleString('en')}.`, '');
  if (loadAverage !== undefined) lines.push(`Load average at start ${loadAverage.start}, at end ${loadAverage.end}.`, '');
  lines.push(`Configuration: \`${JSON.stringify(result.configuration)}\``, '');
  for (const note of result.notes ?? []) lines.push(`- ${note}`);
  if ((result.notes ?? []).length > 0) lines.push('');
  return lines.join('\n');
}

export function runMarkdown(run: BenchRun): string {
  const lines = [
    `Run of ${run.startedAt}: \`${run.command}\`${run.quick ? ' (quick: smoke sizes, figures mean nothing)' : ''}`,
    '',
    '```',
    run.machine.text,
    ...Object.entries(run.servers).map(([name, value]) => `${name}: ${value}`),
    '```',
    '',
  ];
  for (const result of run.results) lines.push(scenarioMarkdown(result, run.loadAverages[result.name]));
  for (const failure of run.failures) lines.push(`### ${failure.name}: failed`, '', '```', failure.error, '```', '');
  return lines.join('\n');
}

export const RESULTS_DIR = path.resolve(import.meta.dirname, '..', 'results');
const DOCS_FILE = path.resolve(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md');
/** docs/benchmarks.md is prose above this line and the latest full run below it. */
export const DOCS_MARKER = '<!-- The latest full run: written by `npm run bench -- --write-docs`; edit above this line only. -->';

/** bench/results/latest.json and latest.md (git-ignored). */
export async function writeResults(run: BenchRun, directory = RESULTS_DIR): Promise<{ json: string; markdown: string }> {
  await mkdir(directory, { recursive: true });
  const json = path.join(directory, 'latest.json');
  const markdown = path.join(directory, 'latest.md');
  await writeFile(json, `${JSON.stringify(run, null, 2)}\n`);
  await writeFile(markdown, `# Benchmark results\n\n${runMarkdown(run)}`);
  return { json, markdown };
}

/** Replaces everything below the marker of docs/benchmarks.md with this run. */
export async function writeDocs(run: BenchRun, file = DOCS_FILE): Promise<string> {
  const current = await readFile(file, 'utf8');
  const at = current.indexOf(DOCS_MARKER);
  if (at < 0) throw new Error(`${file} has no results marker line; add:\n${DOCS_MARKER}`);
  await writeFile(file, `${current.slice(0, at + DOCS_MARKER.length)}\n\n${runMarkdown(run)}`);
  return file;
}
