import { createServer } from 'node:net';

/**
 * Asks the kernel for a TCP port that is free right now on `host`.
 *
 * The port is released before this resolves, so another process can take it
 * before ours binds it: callers that spawn a server on it should use
 * {@link retryOnPortConflict}.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port the kernel assigned on ${host}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/** A server could not bind its port because another process holds it. */
export class PortInUseError extends Error {}

/**
 * Runs `start` on `port`, or on a free port when none is given. When the free
 * port was taken between {@link findFreePort} and the server's bind (a race we
 * cannot close from outside the server) and `start` throws
 * {@link PortInUseError}, tries once more on another free port. An explicit
 * port is never swapped for another: that would surprise the caller.
 */
export async function retryOnPortConflict<T>(
  port: number | undefined,
  start: (port: number) => Promise<T>,
): Promise<T> {
  if (port !== undefined) return start(port);
  try {
    return await start(await findFreePort());
  } catch (error) {
    if (!(error instanceof PortInUseError)) throw error;
    return start(await findFreePort());
  }
}
