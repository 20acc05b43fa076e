import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { runCommand } from './child-process.js';

/** Options of {@link ensureSystemBinary}. */
export interface EnsureSystemBinaryOptions {
  /** Looks for the binary; resolves to its path, or undefined when missing. */
  find: () => Promise<string | undefined>;
  /** Debian packages that provide it, installed with apt-get when running as root. */
  aptPackages: readonly string[];
  /** Message of the Error thrown when it is missing and we may not install it. */
  notInstalledMessage: string;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Path of the first executable `name` in `searchPath`, then in `extraDirs`
 * (sbin folders are often missing from a non-root PATH).
 * @param searchPath - `PATH`-style list; defaults to this process' PATH, the
 *   same list `spawn` itself would search.
 */
export async function findExecutable(
  name: string,
  extraDirs: readonly string[] = [],
  searchPath: string = process.env.PATH ?? '',
): Promise<string | undefined> {
  const dirs = [...searchPath.split(delimiter).filter((dir) => dir !== ''), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

// Wait for dpkg's lock instead of failing when another process (a parallel test
// worker, unattended-upgrades) is installing at the same time.
const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];

// apt-get holds a system-wide lock, so installs in this process run one at a
// time, and concurrent requests for the same packages share one attempt.
let aptQueue: Promise<unknown> = Promise.resolve();
const installs = new Map<string, Promise<string>>();

function aptInstall(packages: readonly string[]): Promise<string> {
  const key = [...packages].sort().join(' ');
  const pending = installs.get(key);
  if (pending) return pending;
  const attempt = aptQueue.then(async () => {
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = await runCommand('apt-get', [...lockWait, 'update'], { env: aptEnv });
    const install = await runCommand(
      'apt-get',
      [...lockWait, 'install', '-y', '--no-install-recommends', ...packages],
      { env: aptEnv },
    );
    if (install.code === 0) return install.output;
    const updateNote = update.code === 0 ? '' : `apt-get update also failed:\n${update.output}\n\n`;
    throw new Error(
      `apt-get install ${packages.join(' ')} exited with code ${install.code}:\n` +
        `${updateNote}${install.output}`,
    );
  });
  aptQueue = attempt.catch(() => undefined);
  installs.set(key, attempt);
  // Forget a failure so a later call (say, after the network came back) retries.
  attempt.catch(() => installs.delete(key));
  return attempt;
}

/**
 * Finds a system binary, installing its Debian packages first when it is
 * missing and this process runs as root; otherwise throws `notInstalledMessage`.
 */
export async function ensureSystemBinary(options: EnsureSystemBinaryOptions): Promise<string> {
  const found = await options.find();
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0) throw new Error(options.notInstalledMessage);

  let aptError: unknown;
  try {
    await aptInstall(options.aptPackages);
  } catch (error) {
    aptError = error;
  }
  // A package whose post-install step failed (say, it could not start a system
  // service without systemd) may still have put the binary in place; we only
  // ever run our own process, so that is enough.
  const installed = await options.find();
  if (installed !== undefined) return installed;
  if (aptError !== undefined) throw aptError;
  throw new Error(
    `apt-get installed ${options.aptPackages.join(' ')} but the binary is still not found; ` +
      options.notInstalledMessage,
  );
}
