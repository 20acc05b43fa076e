import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable } from 'node:stream';

/** How a child process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options shared by {@link spawnServer} and {@link runCommand}. */
export interface ChildOptions {
  /** Run as this user id; only root may set it. @defaultValue the parent's */
  uid?: number;
  /** Run with this group id; only root may set it. @defaultValue the parent's */
  gid?: number;
  /** Working directory; must be traversable by `uid`. @defaultValue the parent's */
  cwd?: string;
  /** Full environment of the child. @defaultValue the parent's */
  env?: NodeJS.ProcessEnv;
  /** Lines of stdout and stderr kept for error messages. @defaultValue 50 */
  outputTailLines?: number;
}

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions extends ChildOptions {
  /**
   * Signal sent, best effort, to the still-running server when the parent
   * process exits. @defaultValue 'SIGTERM'
   */
  exitSignal?: NodeJS.Signals;
}

/** A long-running child whose output is kept, not printed. */
export interface ServerProcess {
  readonly pid: number;
  /** Resolves when the process has exited; never rejects. */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** The last lines the process printed, after its pipes drained (≤ 250 ms). */
  outputTail(): Promise<string>;
  /** Lets the parent's event loop end while the server runs. */
  unref(): void;
  /**
   * Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs.
   * Resolves once the process is gone.
   */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus>;
}

// One process-wide 'exit' listener, present only while a server runs, so that
// a test run or app that dies without close() does not leave servers behind.
const running = new Map<ChildProcess, NodeJS.Signals>();
function stopRunningOnExit(): void {
  for (const [child, signal] of running) {
    try {
      child.kill(signal);
    } catch {
      // Best effort: the parent is exiting and cannot report anything.
    }
  }
}
function track(child: ChildProcess, signal: NodeJS.Signals): void {
  if (running.size === 0) process.on('exit', stopRunningOnExit);
  running.set(child, signal);
}
function untrack(child: ChildProcess): void {
  if (running.delete(child) && running.size === 0) process.off('exit', stopRunningOnExit);
}

function captureTail(streams: (Readable | null)[], maxLines: number): () => string {
  const lines: string[] = [];
  const partials = new Map<Readable, string>();
  for (const stream of streams) {
    if (stream === null) continue;
    stream.on('data', (chunk: Buffer) => {
      const parts = ((partials.get(stream) ?? '') + chunk.toString('utf8')).split('\n');
      partials.set(stream, parts.pop() ?? '');
      for (const line of parts) if (line.trim() !== '') lines.push(line);
      if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
    });
  }
  return () => [...lines, ...partials.values()].filter((line) => line.trim() !== '').join('\n');
}

async function spawnCaptured(command: string, args: readonly string[], options: ChildOptions) {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd,
    env: options.env,
  });
  const tail = captureTail([child.stdout, child.stderr], options.outputTailLines ?? 50);
  const closed = once(child, 'close').then(() => undefined, () => undefined);
  // 'error' (ENOENT, EACCES, EPERM for uid) arrives instead of 'spawn'. The
  // listener stays: a later 'error' (a failed kill) must not crash the parent.
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.on('error', (error) =>
      reject(new Error(`could not start ${command}: ${error.message}`, { cause: error })),
    );
  });
  const outputTail = async () => {
    await Promise.race([closed, delay(250, undefined, { ref: false })]);
    return tail();
  };
  return { child, outputTail };
}

/** Starts a server process with captured output; it is stopped if the parent exits. */
export async function spawnServer(
  command: string,
  args: readonly string[],
  options: SpawnServerOptions = {},
): Promise<ServerProcess> {
  const { child, outputTail } = await spawnCaptured(command, args, options);
  const pid = child.pid as number; // set once 'spawn' fired
  track(child, options.exitSignal ?? 'SIGTERM');
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      untrack(child);
      resolve({ code, signal });
    });
  });
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const stop = async (signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus> => {
    if (hasExited()) return exited;
    // A ref'd child keeps the loop alive until 'exit' arrives, so a caller
    // awaiting close() at the end of a script is not cut off mid-shutdown.
    child.ref();
    child.kill(signal);
    const killTimer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    killTimer.unref();
    const status = await Promise.race([exited, delay(timeoutMs + 5_000, null, { ref: false })]);
    clearTimeout(killTimer);
    if (status === null) {
      throw new Error(`${command} (pid ${pid}) did not exit ${timeoutMs + 5_000} ms after ${signal} and SIGKILL`);
    }
    return status;
  };

  const unref = () => {
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  };

  return { pid, exited, hasExited, outputTail, unref, stop };
}

/** Result of {@link runCommand}. */
export interface CommandResult extends ExitStatus {
  /** The last lines printed, stdout and stderr interleaved. */
  output: string;
}

/** Runs a command to completion, capturing (not printing) its output. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<CommandResult> {
  const { child, outputTail } = await spawnCaptured(command, args, options);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, output: await outputTail() };
}

/** Like {@link runCommand}, but throws with the output tail unless the exit code is 0. */
export async function runCommandOrThrow(
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    throw new Error(`${command} ${args.join(' ')} ${how}:\n${result.output}`);
  }
  return result.output;
}
