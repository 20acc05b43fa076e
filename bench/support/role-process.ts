import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { productionNodeFlags } from './production-flags.js';

/*
 * The stack's processes as production runs them: `node dist/runtime/main.js` with ROLES
 * and `npm start`'s Node flags, one process per role, configured by environment only.
 * Compiled code, not tsx, so the CPU figures are the production ones.
 */

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const MAIN = path.join(REPO_ROOT, 'dist', 'runtime', 'main.js');
const STOP_TIMEOUT_MS = 30_000;
const TAIL_LINES = 40;

export interface NodeProcessOptions {
  /** For messages and CPU tables, e.g. `broker` or `worker-2`. */
  name: string;
  /** Script and its arguments. */
  args: readonly string[];
  /** Node flags, e.g. `--cpu-prof`. */
  execArgv?: readonly string[];
  env: Record<string, string>;
  /** The process is up once a line of its output contains this. */
  readyText: string;
  /** @defaultValue 60000 */
  startTimeoutMs?: number;
}

export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  /** SIGTERM (a graceful close: in-flight batches commit), SIGKILL after 30 s. Idempotent. */
  stop(): Promise<void>;
}

// Processes still running when the runner exits (an exception, Ctrl-C) are stopped with it.
const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
});

export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), ...options.args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.name}`);
  running.add(pid);
  const tail: string[] = [];
  let ready: (() => void) | undefined;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (line.includes(options.readyText)) ready?.();
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(pid);
    return { code: code as number | null, signal: signal as string | null };
  });

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    if (outcome === 'timeout') child.kill('SIGKILL');
    await exited;
    throw new Error(`${options.name} did not start (${outcome === 'timeout' ? `no "${options.readyText}" within ${timeoutMs} ms` : 'it exited'}):\n${tail.join('\n')}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const status = await exited;
        clearTimeout(killTimer);
        if (status.code !== 0) throw new Error(`${options.name} ended with ${status.signal ?? `code ${status.code}`}:\n${tail.join('\n')}`);
      })();
      return stopping;
    },
  };
}

/** One production process running `roles`, e.g. `['broker']`. */
export function startRole(name: string, roles: readonly string[], env: Record<string, string>, execArgv: readonly string[] = []): Promise<NodeProcess> {
  return startNodeProcess({
    name,
    args: [MAIN],
    execArgv: [...productionNodeFlags(REPO_ROOT), ...execArgv],
    // Every simulated device connects from 127.0.0.1: the per-address limits, which
    // guard against one address flooding the broker, would refuse the load itself. Held
    // messages above devices × in-flight window: an overloaded broker then slows the
    // devices instead of refusing them into scrypt-bound reconnects (docs/backpressure.md).
    env: { MQTT_MAX_CONNECTIONS_PER_ADDRESS: '0', MQTT_MAX_AUTH_FAILURES_PER_MINUTE: '0', MQTT_BACKPRESSURE_MAX_HELD: '20000', ...env, ROLES: roles.join(','), LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    readyText: 'urbansense is running',
  });
}
