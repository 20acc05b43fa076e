import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 that can simulate a network partition: while black-holed
 * it accepts and holds connections but forwards nothing either way, so both ends see
 * silence (no RST, no FIN), as with a cut link. That is a different fault from a
 * restart, where connections are refused or closed.
 */
export interface TcpProxy {
  readonly port: number;
  /** Stop forwarding; what is sent meanwhile waits, as unacknowledged TCP segments would. */
  blackHole(): void;
  /** Forward again, delivering what waited: the partition healed. */
  heal(): void;
  close(): Promise<void>;
}

/** One direction of a connection: forwards, or holds while partitioned. */
function forwarder(isPartitioned: () => boolean, to: () => Socket | undefined) {
  const held: Buffer[] = [];
  return {
    data(chunk: Buffer) {
      const target = to();
      if (isPartitioned() || target === undefined) held.push(chunk);
      else target.write(chunk);
    },
    flush() {
      const target = to();
      if (target === undefined) return;
      for (const chunk of held.splice(0)) target.write(chunk);
    },
  };
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let partitioned = false;
  const isPartitioned = () => partitioned;
  const connections = new Set<{ client: Socket; upstream(): Socket | undefined; heal(): void }>();

  const server = createServer((client) => {
    let upstream: Socket | undefined;
    const toServer = forwarder(isPartitioned, () => upstream);
    const toClient = forwarder(isPartitioned, () => client);
    const connection = {
      client,
      upstream: () => upstream,
      heal() {
        if (upstream === undefined) openUpstream();
        toServer.flush();
        toClient.flush();
      },
    };
    const end = () => {
      client.destroy();
      upstream?.destroy();
      connections.delete(connection);
    };
    // A connection opened during the partition reaches the server only once it heals.
    const openUpstream = () => {
      upstream = connect({ host: '127.0.0.1', port: targetPort });
      upstream.on('data', (chunk: Buffer) => toClient.data(chunk));
      upstream.on('connect', () => toServer.flush());
      upstream.on('error', end).on('close', end);
    };
    connections.add(connection);
    client.on('data', (chunk: Buffer) => toServer.data(chunk));
    client.on('error', end).on('close', end);
    if (!partitioned) openUpstream();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    blackHole() {
      partitioned = true;
    },
    heal() {
      partitioned = false;
      for (const connection of connections) connection.heal();
    },
    async close() {
      for (const connection of connections) {
        connection.client.destroy();
        connection.upstream()?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
