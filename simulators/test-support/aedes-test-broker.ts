/**
 * A real aedes broker on 127.0.0.1 (free port) for the simulator tests: it checks each
 * device's username and password, lets a device publish only under its own
 * `sensors/{deviceId}/` namespace, and records what it saw. Tests only.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { deviceTopicPrefix } from '../../contracts/topics.js';

export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  accepted: boolean;
}

export interface ReceivedMessage {
  clientId: string;
  topic: string;
  qos: number;
  payload: string;
}

export interface TestBrokerOptions {
  /** username → password accepted by the broker. */
  accounts: ReadonlyMap<string, string>;
  /**
   * Decides each publish before it is accepted: `'accept'`, `'reject'` (aedes closes the
   * connection without PUBACK, as the gateway does when the queue is down) or `'hold'`
   * (never answered, so no PUBACK). @defaultValue always 'accept'
   */
  decidePublish?: (message: ReceivedMessage, attempt: number) => 'accept' | 'reject' | 'hold';
  /** Port to listen on. @defaultValue 0 (a free one) */
  port?: number;
}

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly connects: ConnectAttempt[];
  /** Publishes the broker accepted (PUBACK sent or about to be), in arrival order. */
  readonly accepted: ReceivedMessage[];
  /** Every publish seen, including rejected and held ones. */
  readonly attempts: ReceivedMessage[];
  connectedClients(): number;
  close(): Promise<void>;
}

const BAD_USERNAME_OR_PASSWORD = 4;

export async function startTestBroker(options: TestBrokerOptions): Promise<TestBroker> {
  const connects: ConnectAttempt[] = [];
  const accepted: ReceivedMessage[] = [];
  const attempts: ReceivedMessage[] = [];
  const usernames = new WeakMap<Client, string>();
  const attemptsByPayload = new Map<string, number>();

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const secret = password?.toString('utf8');
      const ok = username !== undefined && secret !== undefined && options.accounts.get(username) === secret;
      connects.push({ clientId: client.id, username, password: secret, accepted: ok });
      if (ok) {
        usernames.set(client, username);
        done(null, true);
        return;
      }
      const error = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD });
      done(error as AuthenticateError, false);
    },
    authorizePublish(client, packet, done) {
      if (client === null) return done(null);
      const username = usernames.get(client);
      const message: ReceivedMessage = {
        clientId: client.id,
        topic: packet.topic,
        qos: packet.qos,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload.toString('utf8') : String(packet.payload),
      };
      attempts.push(message);
      if (username === undefined || !packet.topic.startsWith(deviceTopicPrefix(username))) {
        return done(new Error('topic not allowed'));
      }
      const attempt = (attemptsByPayload.get(message.payload) ?? 0) + 1;
      attemptsByPayload.set(message.payload, attempt);
      const decision = options.decidePublish?.(message, attempt) ?? 'accept';
      if (decision === 'hold') return;
      if (decision === 'reject') return done(new Error('queue unavailable'));
      accepted.push(message);
      done(null);
    },
  });
  // Resets from clients that were closed forcibly are expected here.
  broker.on('clientError', () => {});
  broker.on('connectionError', () => {});

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test broker has no TCP address');

  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    port: address.port,
    connects,
    accepted,
    attempts,
    connectedClients: () => broker.connectedClients,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        // Held publishes keep their sockets; a test broker must not outlive its test.
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      })();
      return closing;
    },
  };
}
