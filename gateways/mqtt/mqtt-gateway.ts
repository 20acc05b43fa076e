import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { encodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import type { MqttRefusal } from '../../contracts/error-codes.js';
import type { EnvelopeBatcher } from '../../queue/envelope-batcher.js';
import type { Queryable } from '../../storage/database.js';
import type { BackpressureGate } from './backpressure-gate.js';
import { createConnectionGuards } from './connection-guards.js';
import type { ConnectionLimits } from './connection-limiter.js';
import { createConnectionOrderer, type ConnectionState } from './connection-order.js';
import { authenticateDevice } from './device-authenticator.js';
import { listenAll, listenTcp, listenTls, listenWebSocket, type TlsCredentials, type TlsListenersOptions, type TlsListenOptions } from './listeners.js';
import { guardPacketSize } from './packet-size-guard.js';
import { topicIllFormed } from './protocol-violation.js';
import { deviceOfWill, publishTopicKind, subscriptionAllowed, type TopicKind } from './topic-rules.js';

export interface MqttGatewayOptions {
  host: string;
  /** MQTT over TCP; `undefined` disables it, 0 picks a free port. */
  port: number | undefined;
  /** MQTT over WebSocket; `undefined` disables it, 0 picks a free port. */
  wsPort: number | undefined;
  maxPacketBytes: number;
  /** mqtts and wss listeners; every check of the plain ones applies to them too. @defaultValue none */
  tls?: TlsListenersOptions;
  /** Per-address connection and failed-login limits (docs/security.md). @defaultValue no limits */
  limits?: ConnectionLimits;
}

export interface MqttGatewayDeps {
  db: Queryable;
  /** Where accepted messages go; PUBACK waits for it (DESIGN.md, "Accept = durable"). */
  batcher: EnvelopeBatcher;
  /** Slows and refuses devices while the backlog is over its mark (docs/backpressure.md); unset: no bound. */
  backpressure?: BackpressureGate;
}

export interface Refused {
  reason: MqttRefusal;
  clientId: string | undefined;
  deviceId: string | undefined;
  /** The client's network address, where the refusal concerns a connection. */
  address?: string | undefined;
  detail: string;
}

export interface MqttGatewayEvents {
  refused: [refused: Refused];
  connected: [info: { clientId: string; deviceId: string }];
  disconnected: [info: { clientId: string; deviceId: string | undefined }];
}

export interface MqttGateway {
  /** MQTT over TCP; 0 when it is off (options.port undefined), as no bound port is 0. */
  readonly port: number;
  /** The other listeners' ports; `undefined`: that listener is off. */
  readonly wsPort: number | undefined;
  readonly tlsPort: number | undefined;
  readonly wssPort: number | undefined;
  /** mqtts and wss hand new connections these files (renewed certificates); open connections stay. */
  renewCertificate(files: TlsCredentials): void;
  readonly events: EventEmitter<MqttGatewayEvents>;
  readonly connectedClients: number;
  readonly backpressure: BackpressureGate | undefined;
  close(): Promise<void>;
}

// MQTT 3.1.1 CONNACK return codes (MQTT-3.2.2.3).
const BAD_USERNAME_OR_PASSWORD = 4;
const SERVER_UNAVAILABLE = 3;
const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

function connackError(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

export async function createMqttGateway(options: MqttGatewayOptions, deps: MqttGatewayDeps): Promise<MqttGateway> {
  const events = new EventEmitter<MqttGatewayEvents>();
  const deviceOf = new WeakMap<Client, string>();
  const willTopicOf = new WeakMap<Client, string>();
  const connectionOf = new WeakMap<Client, ConnectionState>();
  const orderer = createConnectionOrderer();
  const refuse = (refused: Refused) => events.emit('refused', refused);
  const guards = createConnectionGuards(options.limits ?? {}, refuse);

  /** Wraps the message untouched and waits until its batch is a job in Redis. */
  function enqueue(client: Client | null, deviceId: string, kind: TopicKind, packet: { topic: string; payload: string | Buffer }, done: (error: Error | null) => void): void {
    const connection = client === null ? undefined : connectionOf.get(client);
    const envelope: RawEnvelope = {
      id: randomUUID(),
      source: 'mqtt',
      deviceId,
      topic: packet.topic,
      receivedAtMs: Date.now(),
      ...encodePayload(typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload),
      ...(kind === 'sparkplug' && connection !== undefined ? { order: orderer.next(connection) } : {}),
    };
    deps.batcher.add(envelope).then(
      () => done(null),
      (error: Error) => {
        refuse({ reason: 'queue_unavailable', clientId: client?.id, deviceId, detail: error.message });
        done(guards.own(error));
      },
    );
  }

  const hooks: AedesOptions = {
    // The will is set at CONNECT; it is checked once the device is known (authenticate).
    preConnect(client, packet, done) {
      if (packet.will) willTopicOf.set(client, packet.will.topic);
      done(null, true);
    },

    authenticate(client, username, password, done) {
      // Before the scrypt: a flood of bad logins from one address must not cost CPU.
      if (guards.backingOff(client, username) !== undefined) return done(connackError('server unavailable', SERVER_UNAVAILABLE) as never, false);
      if (deps.backpressure !== undefined && !deps.backpressure.acceptsConnections()) {
        // Overloaded: a device told "server unavailable" retries later (docs/backpressure.md).
        refuse({ reason: 'server_busy', clientId: client.id, deviceId: username, detail: 'refusing until the ingest backlog drains to half its high-water mark' });
        return done(connackError('server unavailable', SERVER_UNAVAILABLE) as never, false);
      }
      authenticateDevice(deps.db, username, password).then(
        (result) => {
          const willTopic = willTopicOf.get(client);
          if (result.ok && willTopic !== undefined && publishTopicKind(willTopic, result.deviceId) === undefined) {
            // A Sparkplug NDEATH is a will (Sparkplug 3.0 §6.4.11): it must be a topic the device may publish.
            refuse({ reason: 'topic_not_allowed', clientId: client.id, deviceId: result.deviceId, detail: `will on "${willTopic}"` });
            return done(connackError('not authorized', NOT_AUTHORIZED) as never, false);
          }
          if (result.ok && !guards.claimClientId(client, result.deviceId)) {
            return done(connackError('identifier rejected', IDENTIFIER_REJECTED) as never, false);
          }
          if (result.ok) {
            deviceOf.set(client, result.deviceId);
            connectionOf.set(client, orderer.opened(result.deviceId));
            return done(null, true);
          }
          guards.authFailed(client);
          refuse({ reason: 'bad_credentials', clientId: client.id, deviceId: username, address: guards.addressOf(client), detail: result.detail });
          done(connackError('bad username or password', BAD_USERNAME_OR_PASSWORD) as never, false);
        },
        (error: Error) => {
          // The database is unreachable: say "server unavailable" so devices retry later.
          refuse({ reason: 'queue_unavailable', clientId: client.id, deviceId: username, detail: error.message });
          done(connackError('server unavailable', SERVER_UNAVAILABLE) as never, false);
        },
      );
    },

    // The publish pipeline: authorise the topic, then make the message durable. aedes
    // writes PUBACK only after this callback succeeds; an error closes the connection
    // without PUBACK, so a QoS 1 device resends. Wills take the same path (aedes passes
    // them here when a connection drops), so a Sparkplug NDEATH is stored like the rest.
    authorizePublish(client, packet, done) {
      // Telemetry is stored, not kept as retained broker state (which would grow without bound).
      packet.retain = false;
      if (client === null) {
        // A will of a client whose broker node died, published by this node.
        const owner = deviceOfWill(packet.topic);
        return owner === undefined ? done(null) : enqueue(null, owner.deviceId, owner.kind, packet, done);
      }
      const deviceId = deviceOf.get(client);
      if (topicIllFormed(packet.topic)) {
        refuse({ reason: 'malformed_packet', clientId: client.id, deviceId, address: guards.addressOf(client), detail: `ill-formed UTF-8 or U+0000 in topic ${JSON.stringify(packet.topic)}` });
        return done(guards.own(new Error('ill-formed topic')));
      }
      const kind = deviceId === undefined ? undefined : publishTopicKind(packet.topic, deviceId);
      if (deviceId === undefined || kind === undefined) {
        refuse({ reason: 'topic_not_allowed', clientId: client.id, deviceId, detail: `publish to "${packet.topic}"` });
        return done(guards.own(new Error('topic not allowed')));
      }
      const gate = deps.backpressure;
      // A will is published as its connection closes: there is nothing left to slow, and refusing would lose it.
      if (gate === undefined || client.closed) return enqueue(client, deviceId, kind, packet, done);
      gate.enter(
        // A device that disconnected while its message was held gets no PUBACK and resends: queue nothing.
        () => (client.closed ? done(guards.own(new Error('connection closed while the message was held'))) : enqueue(client, deviceId, kind, packet, done)),
        (detail) => {
          refuse({ reason: 'backlog_full', clientId: client.id, deviceId, detail });
          done(guards.own(new Error('backlog full')));
        },
      );
    },

    authorizeSubscribe(client, subscription, done) {
      const deviceId = deviceOf.get(client);
      if (deviceId !== undefined && subscriptionAllowed(subscription.topic, deviceId)) return done(null, subscription);
      refuse({ reason: 'topic_not_allowed', clientId: client.id, deviceId, detail: `subscribe to "${subscription.topic}"` });
      done(null, null); // SUBACK 0x80 for this filter (MQTT-3.9.3), the connection stays
    },
  };

  const broker = await Aedes.createBroker(hooks);
  broker.on('clientReady', (client) => events.emit('connected', { clientId: client.id, deviceId: deviceOf.get(client) ?? '' }));
  broker.on('clientDisconnect', (client) => events.emit('disconnected', { clientId: client.id, deviceId: deviceOf.get(client) }));
  // Socket errors of one client (resets, malformed packets) must not reach the process;
  // protocol violations among them are counted.
  broker.on('clientError', (client, error) => guards.clientError(client, error, deviceOf.get(client)));
  broker.on('connectionError', (client, error) => guards.clientError(client, error, undefined));

  const handle = (stream: Duplex, request?: IncomingMessage) => {
    if (!guards.accept(stream, request)) return;
    const client = broker.handle(stream, request);
    guards.track(client, stream);
    guardPacketSize(stream, options.maxPacketBytes, (announcedBytes) => {
      // The parser's error on the cut-off packet is not a second refusal.
      guards.closedByGateway(client);
      refuse({
        reason: 'packet_too_large',
        clientId: client.id ?? undefined,
        deviceId: deviceOf.get(client),
        address: guards.addressOf(client),
        detail: `packet of ${announcedBytes} bytes; the limit is ${options.maxPacketBytes}`,
      });
    });
  };

  const { host, port, wsPort, maxPacketBytes, tls } = options;
  const [tlsPort, wssPort] = [tls?.port, tls?.wsPort];
  const secure: TlsListenOptions | undefined = tls && {
    ...tls,
    onHandshakeFailed: (why, address) => refuse({ reason: 'tls_handshake_failed', clientId: undefined, deviceId: undefined, address, detail: `TLS handshake not completed: ${why}` }),
  };
  const [tcpListener, wsListener, tlsListener, wssListener] = await listenAll([
    port === undefined ? undefined : () => listenTcp(host, port, handle),
    wsPort === undefined ? undefined : () => listenWebSocket(host, wsPort, maxPacketBytes, handle),
    secure === undefined || tlsPort === undefined ? undefined : () => listenTls(host, tlsPort, secure, handle),
    secure === undefined || wssPort === undefined ? undefined : () => listenWebSocket(host, wssPort, maxPacketBytes, handle, secure),
  ]).catch(async (error: unknown) => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  });
  const listeners = [tcpListener, wsListener, tlsListener, wssListener].filter((listener) => listener !== undefined);

  let closing: Promise<void> | undefined;
  return {
    events,
    port: tcpListener?.port ?? 0,
    wsPort: wsListener?.port,
    tlsPort: tlsListener?.port,
    wssPort: wssListener?.port,
    renewCertificate(files) {
      for (const listener of [tlsListener, wssListener]) listener?.renewCertificate?.(files);
    },
    get connectedClients() {
      return broker.connectedClients;
    },
    backpressure: deps.backpressure,
    close() {
      // Stop new connections, send what was accepted (and so acknowledge it), then
      // disconnect the devices: nothing acknowledged is left in memory.
      closing ??= (async () => {
        const listenersClosed = Promise.allSettled(listeners.map((listener) => listener.close()));
        // Held messages were never accepted: refuse them, so none is acknowledged after the batcher closed.
        deps.backpressure?.close();
        await deps.batcher.close();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        // A listener counts as closed once its last connection is gone, i.e. after the broker.
        await listenersClosed;
      })();
      return closing;
    },
  };
}
