import { EventEmitter } from 'node:events';
import type { Database } from './database.js';
import { storageModeOf, type StorageCapabilities, type StorageMode } from './migration.js';
import { createPartitionsAhead, dropExpiredPartitions, foldPendingRollups, PENDING_TABLE } from './plain-partitions.js';
import { listStorageChunks, type StorageChunk } from './storage-chunks.js';
import { saveStorageSettings, type StorageSettings } from './storage-settings.js';
import { checkStorageJobs, listStorageJobs, reconcilePolicies, runStorageJob, type StorageJob } from './timescale-policies.js';

/** Options of {@link createStorageMaintenance}: the storage settings, and whether to run the loop. */
export interface StorageMaintenanceOptions extends StorageSettings {
  /** Run passes every `maintenanceIntervalMs`; false only applies the settings (`runNow` still works). @defaultValue true */
  loop?: boolean;
}

export interface StorageMaintenanceDeps {
  db: Database;
  capabilities: StorageCapabilities;
}

/** One thing a pass did: a job run, partitions created or dropped, settings applied, a check. */
export interface MaintenanceTask {
  name: string;
  ms: number;
  /** What changed (partition names, policies); empty when there was nothing to do. */
  changes: string[];
}

export interface MaintenanceReport {
  mode: StorageMode;
  tasks: MaintenanceTask[];
}

export interface StorageMaintenanceEvents {
  /** A pass finished. */
  ran: [report: MaintenanceReport];
  /** Needs a person's attention: a policy job failing or not scheduled, a drop deferred. */
  warning: [warning: { task: string; message: string }];
  /** A pass failed; the next one runs on schedule. */
  error: [error: Error];
}

export interface StorageMaintenance {
  readonly mode: StorageMode;
  readonly events: EventEmitter<StorageMaintenanceEvents>;
  /**
   * Does all the work of every task now, whatever the schedule: refreshes the rollups,
   * compresses and drops chunks (TimescaleDB modes, the policies' own jobs), creates
   * and drops partitions (plain PostgreSQL). Waits for a pass in progress first.
   */
  runNow(): Promise<MaintenanceReport>;
  /** Stops the loop and waits for a pass in progress. Idempotent. */
  close(): Promise<void>;
}

// Per task, so two processes running maintenance never do the same task at once.
const SETTINGS_LOCK_KEY = 7_311_210;
const PARTITIONS_TASK_LOCK_KEY = 7_311_211;
const FOLD_TASK_LOCK_KEY = 7_311_212;

/** What a compression or retention job changed, from the chunk lists before and after it. */
function chunkChanges(relation: string, before: StorageChunk[], after: StorageChunk[]): string[] {
  const mine = (chunks: StorageChunk[]) => chunks.filter((chunk) => chunk.table === relation);
  const dropped = mine(before).length - mine(after).length;
  const compressed = mine(after).filter((chunk) => chunk.compressed).length - mine(before).filter((chunk) => chunk.compressed).length;
  return [
    ...(dropped > 0 ? [`dropped ${dropped} ${relation} chunks`] : []),
    ...(compressed > 0 ? [`compressed ${compressed} ${relation} chunks`] : []),
  ];
}

async function timed(name: string, work: () => Promise<string[]>): Promise<MaintenanceTask> {
  const started = performance.now();
  const changes = await work();
  return { name, ms: Math.round(performance.now() - started), changes };
}

/**
 * The storage maintenance of one process, per mode:
 * - TimescaleDB server: sets the policies at start; the server's scheduler runs them,
 *   and each pass only checks the jobs run and succeed.
 * - PGlite with TimescaleDB: the same policies, but no background workers run them,
 *   so each pass runs the jobs that are due (`run_job`), on their schedule.
 * - Plain PostgreSQL: each pass folds the writers' pending rollup partials into the
 *   rollups, creates partitions ahead and drops expired ones, each task under an
 *   advisory lock so one process does it at a time.
 * Runs in the worker role: writing processes are the ones that need partitions, and
 * embedded PGlite runs every role in one process.
 */
export async function createStorageMaintenance(options: StorageMaintenanceOptions, deps: StorageMaintenanceDeps): Promise<StorageMaintenance> {
  const { db, capabilities } = deps;
  const mode = storageModeOf(db.kind, capabilities);
  const events = new EventEmitter<StorageMaintenanceEvents>();
  // Nobody may be listening (tests); an unheard 'error' would throw.
  events.on('error', () => {});
  const warn = (task: string, message: string) => events.emit('warning', { task, message });

  const applied = await timed('apply settings', () =>
    db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SETTINGS_LOCK_KEY]);
      await saveStorageSettings(tx, options);
      return capabilities.timescale ? reconcilePolicies(tx, options, capabilities.timescaleVersion) : [];
    }),
  );

  /** When each job last ran in this process (PGlite only). */
  const lastRunMs = new Map<number, number>();
  const runJobs = async (due: (job: StorageJob) => boolean): Promise<MaintenanceTask[]> => {
    const tasks: MaintenanceTask[] = [];
    for (const job of await listStorageJobs(db)) {
      if (!due(job)) continue;
      lastRunMs.set(job.jobId, Date.now());
      // run_job says nothing of what it did; the chunks before and after do.
      const before = job.kind === 'refresh' ? [] : await listStorageChunks(db, capabilities);
      tasks.push(
        await timed(`${job.kind} ${job.relation}`, async () => {
          await runStorageJob(db, job.jobId);
          return job.kind === 'refresh' ? [] : chunkChanges(job.relation, before, await listStorageChunks(db, capabilities));
        }),
      );
    }
    return tasks;
  };

  const partitionTasks = async (): Promise<MaintenanceTask[]> => {
    const fold = await timed('fold rollups', () =>
      db.transaction(async (tx) => {
        const locked = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [FOLD_TASK_LOCK_KEY]);
        // Another process is folding; what it leaves is folded on the next pass.
        const folded = locked.rows[0]?.locked ? await foldPendingRollups(tx) : 0;
        return folded > 0 ? [`folded ${folded} pending rollup partials`] : [];
      }).then(async (changes) => {
        // The fold leaves the pending table full of dead rows the views would wade through; VACUUM cannot run in a transaction.
        if (changes.length > 0) await db.query(`VACUUM ${PENDING_TABLE}`);
        return changes;
      }),
    );
    const ahead = await timed('create partitions', () =>
      db.transaction(async (tx) => {
        const locked = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [PARTITIONS_TASK_LOCK_KEY]);
        // Another process is on it; its partitions serve this one too.
        return locked.rows[0]?.locked ? createPartitionsAhead(tx, options) : [];
      }),
    );
    const expired = await timed('drop expired partitions', async () => {
      const { dropped, deferred } = await dropExpiredPartitions(db, options);
      if (deferred.length > 0) warn('drop expired partitions', `could not lock in time, next pass retries: ${deferred.join(', ')}`);
      return dropped;
    });
    return [fold, ahead, expired];
  };

  const verifyJobs = async (): Promise<MaintenanceTask[]> => [
    await timed('check policy jobs', async () => {
      for (const { relation, kind, problem } of await checkStorageJobs(db)) warn(`${kind} ${relation}`, problem);
      return [];
    }),
  ];

  /** One scheduled pass. */
  const pass = async (): Promise<MaintenanceTask[]> => {
    if (mode === 'postgresql') return partitionTasks();
    if (mode === 'timescaledb') return verifyJobs();
    const now = Date.now();
    return runJobs((job) => {
      const last = lastRunMs.get(job.jobId);
      return last === undefined || now - last >= job.scheduleMs;
    });
  };
  /** Everything, now. */
  const everything = (): Promise<MaintenanceTask[]> => (mode === 'postgresql' ? partitionTasks() : runJobs(() => true));

  // Passes never overlap: each starts when the one before (scheduled or runNow) ended.
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = (work: () => Promise<MaintenanceTask[]>, first: MaintenanceTask[] = []): Promise<MaintenanceReport> => {
    const run = chain.then(async () => {
      const report = { mode, tasks: [...first, ...(await work())] };
      events.emit('ran', report);
      return report;
    });
    chain = run.catch(() => undefined);
    return run;
  };

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (delayMs: number) => {
    if (closed || options.loop === false) return;
    timer = setTimeout(() => {
      void enqueue(pass)
        .catch((error: Error) => events.emit('error', error))
        .finally(() => schedule(options.maintenanceIntervalMs));
    }, delayMs);
    timer.unref();
  };
  if (options.loop !== false) {
    // The first pass runs right away and reports the settings applied at start with it.
    void enqueue(pass, [applied]).catch((error: Error) => events.emit('error', error)).finally(() => schedule(options.maintenanceIntervalMs));
  }

  let closing: Promise<void> | undefined;
  return {
    mode,
    events,
    runNow: () => enqueue(everything),
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        await chain;
      })();
      return closing;
    },
  };
}
