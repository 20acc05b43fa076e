import { readFile, rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** Options of {@link stopLeftoverProcess}. */
export interface StopLeftoverOptions {
  /** Pidfile the server wrote (first line is the PID). */
  pidFile: string;
  /**
   * Text that must appear in `/proc/<pid>/cmdline`; guards against a PID the
   * kernel has since given to an unrelated process.
   */
  commandMustContain: string;
  /** Signal asking the server to shut down cleanly. @defaultValue 'SIGTERM' */
  signal?: NodeJS.Signals;
  /** How long to wait after `signal` before SIGKILL. @defaultValue 10000 */
  stopTimeoutMs?: number;
}

/** What {@link stopLeftoverProcess} found. */
export type LeftoverOutcome = 'none' | 'stale-pidfile' | 'stopped';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return true;
}

async function isRunning(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  // A zombie answers kill(pid, 0) but holds no files any more; its parent may
  // never reap it (a crashed runner's orphan under a non-reaping PID 1).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

/**
 * Stops a server left behind by a crashed earlier run on the same data
 * directory: it still holds the files (Redis' AOF, PostgreSQL's cluster) a new
 * server needs. Kills only the PID in the pidfile, and only when that process
 * is the expected program; a pidfile of a dead or unrelated process is removed.
 */
export async function stopLeftoverProcess(options: StopLeftoverOptions): Promise<LeftoverOutcome> {
  const { pidFile, commandMustContain, signal = 'SIGTERM', stopTimeoutMs = 10_000 } = options;
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw error;
  }
  const pid = Number.parseInt(text.split('\n')[0]?.trim() ?? '', 10);
  const cmdline = Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid
    ? (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')
    : '';
  if (!cmdline.includes(commandMustContain) || !(await isRunning(pid))) {
    await rm(pidFile, { force: true });
    return 'stale-pidfile';
  }

  process.kill(pid, signal);
  if (!(await waitGone(pid, stopTimeoutMs))) {
    process.kill(pid, 'SIGKILL');
    if (!(await waitGone(pid, 5_000))) {
      throw new Error(
        `leftover ${commandMustContain} (pid ${pid} from ${pidFile}) survived ${signal} and SIGKILL; ` +
          `stop it by hand before starting a new one on the same data directory`,
      );
    }
  }
  // After SIGKILL the server could not remove its own pidfile.
  await rm(pidFile, { force: true });
  return 'stopped';
}
