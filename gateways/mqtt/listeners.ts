import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, RequestListener } from 'node:http';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';

export type HandleConnection = (stream: Duplex, request?: IncomingMessage) => void;

export interface Listener {
  readonly port: number;
  /**
   * Stops accepting connections at once; resolves when the last open connection has
   * ended, which is the broker's to bring about.
   */
  close(): Promise<void>;
  /** TLS listeners only: new handshakes use these files; open connections keep theirs. */
  renewCertificate?(files: TlsCredentials): void;
}

/** The PEM material of a TLS listener (config/tls-files.ts reads and checks it). */
export interface TlsCredentials {
  /** PEM certificate chain and its private key. */
  cert: Buffer;
  key: Buffer;
  /** PEM CAs a client certificate must chain to; `undefined`: no client certificate is asked for. */
  clientCa: Buffer | undefined;
}

/** The server side of TLS for the mqtts and wss listeners. */
export interface TlsListenOptions extends TlsCredentials {
  /** A handshake failed (plain MQTT on the TLS port, a client that does not trust us, no client certificate): nothing reached the broker. */
  onHandshakeFailed(why: string, address: string | undefined): void;
}

/** The gateway's TLS listeners and the files they use (TLS_CERT_FILE, README "TLS"). */
export interface TlsListenersOptions extends TlsCredentials {
  /** MQTT over TLS (mqtts); `undefined` disables it, 0 picks a free port. */
  port: number | undefined;
  /** MQTT over secure WebSocket at `/mqtt`; `undefined` disables it, 0 picks a free port. */
  wsPort: number | undefined;
}

// aedes gives a connection 30 s to send CONNECT; a TLS handshake gets the same before it.
const HANDSHAKE_TIMEOUT_MS = 30_000;

function secureContextOptions(files: TlsCredentials): SecureContextOptions {
  return { cert: files.cert, key: files.key, ...(files.clientCa === undefined ? {} : { ca: files.clientCa }) };
}

function tlsServerOptions(tls: TlsListenOptions): TlsOptions {
  return {
    ...secureContextOptions(tls),
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    ...(tls.clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
  };
}

/** Serves renewed certificate files to new connections, without closing the listener (issue 8). */
function renewCertificate(server: TlsServer, files: TlsCredentials): void {
  server.setSecureContext(secureContextOptions(files));
}

function reportHandshakeFailures(server: TlsServer, tls: TlsListenOptions): void {
  // node:tls destroys the socket itself; without a listener the failure would go unseen.
  // A client that distrusts the certificate may just hang up: then the address is gone too.
  // OpenSSL's `reason` ("wrong version number", "tlsv1 alert unknown ca") without its source paths.
  server.on('tlsClientError', (error: Error & { reason?: string }, socket) => tls.onHandshakeFailed(error.reason ?? error.message, socket.remoteAddress));
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

/** MQTT over TLS (mqtts): the broker sees the decrypted stream, as from {@link listenTcp}. */
export async function listenTls(host: string, port: number, tls: TlsListenOptions, handle: HandleConnection): Promise<Listener> {
  const server = createTlsServer(tlsServerOptions(tls), (socket) => handle(socket));
  reportHandshakeFailures(server, tls);
  const bound = await listen(server, host, port);
  let closing: Promise<void> | undefined;
  return { port: bound, close: () => (closing ??= closeServer(server)), renewCertificate: (files) => renewCertificate(server, files) };
}

/**
 * MQTT over WebSocket at `/mqtt`, as browsers and many gateways expect; with `tls`,
 * over secure WebSocket (wss).
 */
export async function listenWebSocket(host: string, port: number, maxPacketBytes: number, handle: HandleConnection, tls?: TlsListenOptions): Promise<Listener> {
  const answerPlainHttp: RequestListener = (_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt with the "mqtt" subprotocol\n');
  };
  let server: HttpServer;
  let renew: Listener['renewCertificate'];
  if (tls === undefined) {
    server = createHttpServer(answerPlainHttp);
  } else {
    const httpsServer = createHttpsServer(tlsServerOptions(tls), answerPlainHttp);
    reportHandshakeFailures(httpsServer, tls);
    renew = (files) => renewCertificate(httpsServer, files);
    server = httpsServer;
  }
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
    ...(renew === undefined ? {} : { renewCertificate: renew }),
  };
}

/**
 * Starts the listeners in turn (`undefined`: that one is off). When one cannot bind,
 * those already listening are closed before the error is thrown, so no port stays taken.
 */
export async function listenAll<const T extends readonly ((() => Promise<Listener>) | undefined)[]>(starts: T): Promise<{ [K in keyof T]: Listener | undefined }> {
  const started: (Listener | undefined)[] = [];
  try {
    for (const start of starts) started.push(start === undefined ? undefined : await start());
  } catch (error) {
    await Promise.allSettled(started.map((listener) => listener?.close()));
    throw error;
  }
  return started as { [K in keyof T]: Listener | undefined };
}
