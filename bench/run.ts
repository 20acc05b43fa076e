/**
 * `npm run bench`: the benchmark of issue 9 in one run, on a real PostgreSQL and Redis,
 * with the stack's compiled processes (broker, workers, API) and the load generator
 * each in its own process.
 *
 *   npm run bench                              every scenario, full sizes
 *   npm run bench -- ingest-1 queries          only these scenarios
 *   npm run bench -- --quick                   the smoke form (seconds; figures mean nothing)
 *   npm run bench -- --write-docs              also write the run into docs/benchmarks.md
 *   npm run bench -- --cpu-prof ingest-1       V8 CPU profiles of the stack's processes
 *   npm run bench -- ingest-1 --workers=3      tuning options (bench/support/ingest-settings.ts)
 *
 * BENCH_DATABASE_URL uses an existing PostgreSQL server (its admin URL: scenarios
 * create and drop their own databases); otherwise one is started with fsync and
 * synchronous commit on. Results: bench/results/latest.json and latest.md.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCommandOrThrow } from '../runtime/child-process.js';
import { startLocalPostgres, type LocalPostgres } from '../runtime/local-postgres.js';
import { startLocalRedis, type LocalRedis } from '../runtime/local-redis.js';
import { createPgDatabase } from '../storage/pg-database.js';
import { describeBenchMachine, loadAverage } from './support/machine.js';
import { RESULTS_DIR, scenarioMarkdown, writeDocs, writeResults, type BenchRun } from './support/report.js';
import { REPO_ROOT } from './support/role-process.js';
import type { BenchContext, Scenario, ScenarioResult } from './support/scenario.js';

/** Every scenario by name, in run order, with the module and export that holds it. */
export const SCENARIOS: readonly { name: string; module: string; exportName: string }[] = [
  { name: 'baselines', module: './scenarios/baselines.js', exportName: 'baselinesScenario' },
  { name: 'ingest-1', module: './scenarios/ingest.js', exportName: 'ingestOneScenario' },
  { name: 'ingest-10', module: './scenarios/ingest.js', exportName: 'ingestTenScenario' },
  { name: 'latency', module: './scenarios/latency.js', exportName: 'latencyScenario' },
  { name: 'queries', module: './scenarios/queries.js', exportName: 'queriesScenario' },
  { name: 'connections', module: './scenarios/connections.js', exportName: 'connectionsScenario' },
  { name: 'opcua', module: './scenarios/opcua.js', exportName: 'opcuaScenario' },
];

export interface RunBenchOptions {
  /** Scenario names; all when empty. */
  scenarios: readonly string[];
  quick: boolean;
  /** Write docs/benchmarks.md (a full run of every scenario only). */
  writeDocs?: boolean;
  /** Write V8 CPU profiles of the stack's processes under bench/results/profiles/. */
  cpuProfile?: boolean;
  /**
   * Compile the stack first (`tsc -p tsconfig.build.json`); `when-stale`: only when a source
   * file is newer than the last build (CI builds before testing). @defaultValue true
   */
  build?: boolean | 'when-stale';
  /** An existing server's admin URL; otherwise BENCH_DATABASE_URL, otherwise a local durable one. */
  postgresUrl?: string;
  /** An existing Redis; otherwise a local one (AOF, fsync every second, as production). */
  redisUrl?: string;
  /** `--key=value` tuning options handed to the scenarios. */
  options?: Record<string, string>;
  resultsDir?: string;
  /** Where lines go. @defaultValue stdout */
  print?: (line: string) => void;
  /** The command line, for the report. */
  command?: string;
}

async function loadScenario(entry: (typeof SCENARIOS)[number]): Promise<Scenario> {
  // A path in a variable: a scenario module that is not written yet fails here, for that scenario only.
  const specifier = entry.module;
  const module = (await import(specifier)) as Record<string, unknown>;
  const scenario = module[entry.exportName] as Scenario | undefined;
  if (scenario === undefined || typeof scenario.run !== 'function') throw new Error(`${entry.module} does not export ${entry.exportName}`);
  return scenario;
}

function selected(names: readonly string[]): (typeof SCENARIOS)[number][] {
  if (names.length === 0) return [...SCENARIOS];
  const unknown = names.filter((name) => !SCENARIOS.some((entry) => entry.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((entry) => entry.name).join(', ')}`);
  return SCENARIOS.filter((entry) => names.includes(entry.name));
}

const BUILT_FOLDERS = ['contracts', 'config', 'gateways', 'queue', 'services', 'storage', 'runtime', 'simulators'];

/** Whether a compiled source file is newer than dist/ (tsc rewrites every output on each build). */
async function buildIsStale(): Promise<boolean> {
  const built = await stat(path.join(REPO_ROOT, 'dist', 'runtime', 'main.js')).catch(() => undefined);
  if (built === undefined) return true;
  for (const folder of BUILT_FOLDERS) {
    const files = await readdir(path.join(REPO_ROOT, folder), { recursive: true });
    for (const file of files) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      if ((await stat(path.join(REPO_ROOT, folder, file))).mtimeMs > built.mtimeMs) return true;
    }
  }
  return false;
}

async function build(print: (line: string) => void): Promise<void> {
  print('compiling the stack (tsc -p tsconfig.build.json) …');
  await runCommandOrThrow(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT });
}

export async function runBench(options: RunBenchOptions): Promise<BenchRun> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const entries = selected(options.scenarios);
  if (options.writeDocs === true && (options.quick || entries.length !== SCENARIOS.length)) {
    throw new Error('--write-docs writes the full run: use it without --quick and without naming scenarios');
  }
  if (options.build === true || options.build === undefined || (options.build === 'when-stale' && (await buildIsStale()))) await build(print);
  const startedAt = new Date().toISOString();
  const workDir = await mkdtemp(path.join(tmpdir(), 'urbansense-bench-'));
  let postgres: LocalPostgres | undefined;
  let redis: LocalRedis | undefined;
  try {
    const externalPostgres = options.postgresUrl ?? process.env.BENCH_DATABASE_URL;
    // A full run keeps its cluster under the results folder: the query history (about an
    // hour and ~50 GB to load) and the connection scenario's credentials are made once and
    // reused by the next run (their marker tables say so). A quick run is thrown away.
    const keptCluster = options.quick ? undefined : path.join(options.resultsDir ?? RESULTS_DIR, 'postgres');
    if (externalPostgres === undefined) postgres = await startLocalPostgres({ durable: true, dataDir: keptCluster });
    const postgresUrl = externalPostgres ?? postgres!.url;
    if (options.redisUrl === undefined) redis = await startLocalRedis({ dataDir: path.join(workDir, 'redis') });
    const redisUrl = options.redisUrl ?? redis!.url;
    const probe = createPgDatabase({ connectionString: postgresUrl, maxConnections: 1 });
    const machine = await describeBenchMachine(probe, redisUrl).finally(() => probe.close());
    const servers = {
      postgresql: postgres === undefined
        ? 'given (BENCH_DATABASE_URL)'
        : `started by the bench${keptCluster === undefined ? '' : ` in ${path.relative(REPO_ROOT, keptCluster)} (kept for the next run)`}: fsync on, synchronous_commit on, full_page_writes on, shared_buffers 128MB`,
      redis: redis === undefined ? 'given' : 'started by the bench: appendonly yes, appendfsync everysec (the stack default)',
    };
    print(machine.text);
    for (const [name, value] of Object.entries(servers)) print(`${name}: ${value}`);
    const cpuProfileDir = options.cpuProfile === true ? path.join(options.resultsDir ?? RESULTS_DIR, 'profiles', startedAt.replace(/[:.]/g, '-')) : undefined;
    if (cpuProfileDir !== undefined) print(`CPU profiles: ${cpuProfileDir}`);

    const run: BenchRun = {
      startedAt, command: options.command ?? `npm run bench -- ${options.scenarios.join(' ')}`.trim(), quick: options.quick,
      machine, servers, results: [], failures: [], loadAverages: {},
    };
    for (const entry of entries) {
      const started = performance.now();
      const progress = (line: string) => print(`[${entry.name} +${Math.round((performance.now() - started) / 1000)}s] ${line}`);
      const start = loadAverage();
      progress(`start; load average ${start}`);
      const context: BenchContext = {
        quick: options.quick, postgresUrl, redisUrl, workDir: path.join(workDir, entry.name), progress,
        earlier: [...run.results], options: options.options ?? {}, ...(cpuProfileDir === undefined ? {} : { cpuProfileDir }),
      };
      try {
        const scenario = await loadScenario(entry);
        const result: ScenarioResult = await scenario.run(context);
        const end = loadAverage();
        run.loadAverages[entry.name] = { start, end };
        run.results.push(result);
        progress(`done; load average ${end}`);
        print('');
        print(scenarioMarkdown(result, run.loadAverages[entry.name]));
      } catch (error) {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        run.failures.push({ name: entry.name, error: text });
        progress(`FAILED: ${text}`);
      }
    }
    const files = await writeResults(run, options.resultsDir);
    print(`results: ${files.json}, ${files.markdown}`);
    if (options.writeDocs === true) print(`docs: ${await writeDocs(run)}`);
    return run;
  } finally {
    await Promise.allSettled([postgres?.close(), redis?.close()]);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** `npm run bench -- [names…] [--quick] [--write-docs] [--cpu-prof] [--no-build] [--key=value…]` */
export function parseArgs(argv: readonly string[]): RunBenchOptions {
  const options: Record<string, string> = {};
  const scenarios: string[] = [];
  const flags = new Set<string>();
  for (const arg of argv) {
    const match = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (match !== null) options[match[1]!] = match[2]!;
    else if (arg.startsWith('--')) flags.add(arg);
    else scenarios.push(arg);
  }
  const knownFlags = ['--quick', '--write-docs', '--cpu-prof', '--no-build'];
  const unknown = [...flags].filter((flag) => !knownFlags.includes(flag));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(', ')}; known: ${knownFlags.join(', ')} and --key=value tuning options`);
  return {
    scenarios, options, quick: flags.has('--quick'), writeDocs: flags.has('--write-docs'), cpuProfile: flags.has('--cpu-prof'),
    build: !flags.has('--no-build'), command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const run = await runBench(parseArgs(process.argv.slice(2)));
    process.exitCode = run.failures.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}

