import { setTimeout as delay } from 'node:timers/promises';
import type { ServerProcess } from './child-process.js';
import { PortInUseError } from './free-port.js';

/** Options of {@link waitForServer}. */
export interface WaitForServerOptions {
  /** Program name for error messages, e.g. 'redis-server'. */
  name: string;
  port: number;
  /**
   * One readiness check: resolves to undefined when the server is ready, or
   * to the reason it is not (shown if we give up). May throw for the same.
   */
  probe: () => Promise<string | undefined>;
  /** Pause between probes. */
  pollMs: number;
  /** Give up, SIGKILL the server and throw after this long. */
  timeoutMs: number;
}

/**
 * Polls `probe` until the server is ready. Throws, with the server's last
 * output lines, when it exits first ({@link PortInUseError} when its output
 * says its port was taken) or when `timeoutMs` passes.
 */
export async function waitForServer(server: ServerProcess, options: WaitForServerOptions): Promise<void> {
  const { name, port, probe, pollMs, timeoutMs } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let notReady: string | undefined;
    try {
      notReady = await probe();
    } catch (error) {
      notReady = (error as Error).message;
    }
    if (notReady === undefined) return;

    if (server.hasExited()) {
      const { code, signal } = await server.exited;
      const output = await server.outputTail();
      const message = `${name} exited (${signal ?? `code ${code}`}) before it was ready on port ${port}:\n${output}`;
      throw output.includes('Address already in use') ? new PortInUseError(message) : new Error(message);
    }
    if (Date.now() >= deadline) {
      await server.stop('SIGKILL', 5_000);
      throw new Error(
        `${name} was not ready on port ${port} within ${timeoutMs} ms (last check: ${notReady}):\n` +
          (await server.outputTail()),
      );
    }
    await delay(pollMs);
  }
}
