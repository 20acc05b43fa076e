/**
 * The shape every benchmark scenario has, so `npm run bench` can run them in one pass,
 * print them the same way and write them to JSON and Markdown together.
 */

/** What the runner hands each scenario: the servers of this run and how big to go. */
export interface BenchContext {
  /** The smoke form: seconds, tiny sizes; asserts completion and counts, never speed. */
  readonly quick: boolean;
  /** Admin URL of the run's PostgreSQL server; scenarios create their own databases on it. */
  readonly postgresUrl: string;
  /** The run's Redis; scenarios use their own key prefixes. */
  readonly redisUrl: string;
  /** Folder for this run's scratch files (data dirs, logs, profiles); removed afterwards. */
  readonly workDir: string;
  /**
   * Set by `--cpu-prof`: the stack's processes write V8 CPU profiles under this folder
   * (one sub-folder per scenario and role), to open in Chrome DevTools or speedscope.
   */
  readonly cpuProfileDir?: string;
  /**
   * The results of the scenarios run before this one in the same run, so a scenario can
   * state its ratio to a baseline measured alongside (absent when run on its own).
   */
  readonly earlier?: readonly ScenarioResult[];
  /**
   * `--key=value` options of the command line (e.g. `--workers=3`), for tuning runs;
   * each scenario documents the keys it reads. Absent or empty: the defaults.
   */
  readonly options?: Readonly<Record<string, string>>;
  /** A line showing a long run is alive; printed with the scenario's name and elapsed time. */
  progress(line: string): void;
}

/** One figure: a number with its unit, e.g. `{ value: 31250, unit: 'readings/s' }`. */
export interface Figure {
  readonly value: number;
  readonly unit: string;
  /** The target of the issue this figure is held against, e.g. `>= 30000` or `< 20`. */
  readonly target?: string;
  /** Whether the target was met; absent without a target. */
  readonly met?: boolean;
}

export interface ScenarioResult {
  /** Short id, e.g. `ingest-1`. */
  readonly name: string;
  /** One line for people, e.g. `Ingest, one reading per message`. */
  readonly title: string;
  /** In print order. */
  readonly figures: Readonly<Record<string, Figure>>;
  /** The settings the figures were produced with (sizes, batch sizes, processes, …). */
  readonly configuration: Readonly<Record<string, unknown>>;
  /** Readings sent and stored, where the scenario stores any: the smoke test checks they match. */
  readonly sent?: number;
  readonly stored?: number;
  /** What a reader needs to read the figures right (source used, bottleneck seen, …). */
  readonly notes?: readonly string[];
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}
