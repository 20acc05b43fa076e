import { spawn } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../../..');
const READY_LINE = 'stop       Ctrl-C';

export interface StackProcessOptions {
  /** ROLES of the process, e.g. `broker,api` or `worker`. */
  roles: string;
  /** DATABASE_URL, REDIS_URL, QUEUE_PREFIX, ports, … (LISTEN_HOST and LOG_LEVEL are set here). */
  env: Record<string, string>;
  /** How long start-up may take. @defaultValue 60000 */
  startTimeoutMs?: number;
}

/** `node --import tsx runtime/main.ts` as a child process, so a test can signal it like an operator or a crash would. */
export interface StackProcess {
  readonly pid: number;
  /** Resolves with how it ended; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far (pino JSON lines and the banner). */
  output(): string;
  /** Sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the stack's CLI with `options.roles` and resolves once it printed its banner. */
export async function startStackProcess(options: StackProcessOptions): Promise<StackProcess> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/main.ts'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LISTEN_HOST: '127.0.0.1',
      MQTT_WS_PORT: '0',
      LOG_LEVEL: 'warn',
      ROLES: options.roles,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A test that fails before it stops the process must not leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!output.includes(READY_LINE)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the ${options.roles} process did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: child.pid as number,
    exited,
    output: () => output,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
