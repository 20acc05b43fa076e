import { fork } from 'node:child_process';
import path from 'node:path';
import type { DeviceCredential } from './device-credentials.js';

/** What the generator is told to do. */
export interface IdlePlan {
  type: 'plan';
  host: string;
  port: number;
  devices: DeviceCredential[];
  keepaliveS: number;
  /** CONNECTs awaiting their CONNACK at once. */
  connectsAtOnce: number;
}

export type GeneratorReply =
  | { type: 'progress'; open: number; failed: number }
  | { type: 'connected'; open: number; failed: number; connectMs: number; errors: string[] }
  | { type: 'closed'; stillOpen: number; droppedByBroker: number; errors: string[] }
  | { type: 'failed'; error: string };

export interface IdleConnections {
  readonly pid: number;
  /** The latest counts, about once a second. */
  latest(): { open: number; failed: number };
  /** Every device has had its CONNACK (or failed). */
  readonly connected: Promise<Extract<GeneratorReply, { type: 'connected' }>>;
  /** Counts what is still open, disconnects everything and ends the generator. */
  close(): Promise<Extract<GeneratorReply, { type: 'closed' }>>;
}

const GENERATOR = path.join(import.meta.dirname, 'idle-connections-generator.ts');

/** Forks the generator (its own process: its sockets and CPU are not the runner's) and hands it `plan`. */
export function startIdleConnections(plan: IdlePlan): IdleConnections {
  // tsx compiles the generator once at load; what runs afterwards is plain JavaScript.
  const child = fork(GENERATOR, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let latest = { open: 0, failed: 0 };
  const waiting = new Map<string, (reply: GeneratorReply) => void>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const reject of rejecters) reject(failure);
  };
  const rejecters = new Set<(error: Error) => void>();
  const reply = <T extends GeneratorReply['type']>(type: T) => new Promise<Extract<GeneratorReply, { type: T }>>((resolve, reject) => {
    if (failure !== undefined) return reject(failure);
    rejecters.add(reject);
    waiting.set(type, resolve as (reply: GeneratorReply) => void);
  });
  child.on('message', (message: GeneratorReply) => {
    if (message.type === 'progress') latest = { open: message.open, failed: message.failed };
    else if (message.type === 'failed') failAll(new Error(`idle-connection generator: ${message.error}`));
    else waiting.get(message.type)?.(message);
  });
  child.on('exit', (code) => failAll(new Error(`idle-connection generator exited with code ${code}`)));
  const connected = reply('connected');
  connected.catch(() => {});
  child.send(plan);
  return {
    pid: child.pid ?? 0,
    latest: () => latest,
    connected,
    async close() {
      const closed = reply('closed');
      child.send({ type: 'close' });
      const answer = await closed;
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      return answer;
    },
  };
}
