import { fork } from 'node:child_process';
import path from 'node:path';
import type { GeneratorMessage, LoadCounts, LoadPlan } from './load-plan.js';

export type LoadReport = Extract<GeneratorMessage, { type: 'done' }>;

export interface LoadRun {
  /** The generator's pid, for CPU accounting. */
  readonly pid: number;
  /** Resolves when every connection is up (publishing starts right after). */
  readonly connected: Promise<{ connections: number; connectMs: number }>;
  /** The latest counts, updated about once a second. */
  latest(): LoadCounts & { atMs: number };
  /** Resolves when publishing is over and the last PUBACKs came or timed out. */
  readonly done: Promise<LoadReport>;
}

const GENERATOR = path.join(import.meta.dirname, 'load-generator.ts');

/** Forks the load generator (its own process, so its CPU is its own) and hands it `plan`. */
export function startLoad(plan: LoadPlan): LoadRun {
  // tsx compiles the generator once at load; what runs afterwards is plain JavaScript.
  const child = fork(GENERATOR, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let latest: LoadCounts & { atMs: number } = { sent: 0, acked: 0, atMs: Date.now() };
  let onConnected: (value: { connections: number; connectMs: number }) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const connected = new Promise<{ connections: number; connectMs: number }>((resolve, reject) => {
    onConnected = resolve;
    fail = reject;
  });
  const done = new Promise<LoadReport>((resolve, reject) => {
    child.on('message', (message: GeneratorMessage) => {
      if (message.type === 'connected') onConnected(message);
      else if (message.type === 'progress') latest = message;
      else if (message.type === 'done') resolve(message);
      else {
        const error = new Error(`load generator: ${message.error}`);
        fail(error);
        reject(error);
      }
    });
    child.on('exit', (code) => {
      const error = new Error(`load generator exited with code ${code} before reporting`);
      fail(error);
      reject(error);
    });
  });
  // Whichever is not awaited must not become an unhandled rejection.
  connected.catch(() => {});
  done.catch(() => {});
  child.send(plan);
  return { pid: child.pid ?? 0, connected, latest: () => latest, done };
}
