import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { createWebSocketStream, WebSocketServer } from 'ws';

export type HandleConnection = (stream: Duplex, request?: IncomingMessage) => void;

export interface Listener {
  readonly port: number;
  /**
   * Stops accepting connections at once; resolves when the last open connection has
   * ended, which is the broker's to bring about.
   */
  close(): Promise<void>;
}

function listen(server: NetServer | HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function listenTcp(host: string, port: number, handle: HandleConnection): Promise<Listener> {
  const server = createNetServer((socket) => handle(socket));
  const bound = await listen(server, host, port);
  let closing: Promise<void> | undefined;
  return { port: bound, close: () => (closing ??= closeServer(server)) };
}

/** MQTT over WebSocket at `/mqtt`, as browsers and many gateways expect. */
export async function listenWebSocket(host: string, port: number, maxPacketBytes: number, handle: HandleConnection): Promise<Listener> {
  const server = createHttpServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt with the "mqtt" subprotocol\n');
  });
  // A WebSocket frame may carry several MQTT packets; the packet guard enforces the
  // real limit, this only stops absurd frames before they are buffered.
  const wss = new WebSocketServer({ server, path: '/mqtt', maxPayload: maxPacketBytes * 4 });
  wss.on('connection', (socket, request) => {
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    handle(stream, request);
  });
  const bound = await listen(server, host, port);
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await closeServer(server);
      })()),
  };
}
