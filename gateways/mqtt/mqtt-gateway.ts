import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import { encodePayload, type RawEnvelope } from '../../contracts/envelope.js';
import type { MqttRefusal } from '../../contracts/error-codes.js';
import type { EnvelopeBatcher } from '../../queue/envelope-batcher.js';
import type { Queryable } from '../../storage/database.js';
import { createConnectionOrderer, type ConnectionState } from './connection-order.js';
import { authenticateDevice } from './device-authenticator.js';
import { listenTcp, listenWebSocket, type Listener } from './listeners.js';
import { guardPacketSize } from './packet-size-guard.js';
import { deviceOfWill, publishTopicKind, subscriptionAllowed, type TopicKind } from './topic-rules.js';

export interface MqttGatewayOptions {
  host: string;
  /** MQTT over TCP; 0 picks a free port. */
  port: number;
  /** MQTT over WebSocket; `undefined` disables it, 0 picks a free port. */
  wsPort: number | undefined;
  maxPacketBytes: number;
}

export interface MqttGatewayDeps {
  db: Queryable;
  /** Where accepted messages go; PUBACK waits for it (DESIGN.md, "Accept = durable"). */
  batcher: EnvelopeBatcher;
}

export interface Refused {
  reason: MqttRefusal;
  clientId: string | undefined;
  deviceId: string | undefined;
  detail: string;
}

export interface MqttGatewayEvents {
  refused: [refused: Refused];
  connected: [info: { clientId: string; deviceId: string }];
  disconnected: [info: { clientId: string; deviceId: string | undefined }];
}

export interface MqttGateway {
  readonly port: number;
  readonly wsPort: number | undefined;
  readonly events: EventEmitter<MqttGatewayEvents>;
  readonly connectedClients: number;
  close(): Promise<void>;
}

// MQTT 3.1.1 CONNACK return codes (MQTT-3.2.2.3).
const BAD_USERNAME_OR_PASSWORD = 4;
const SERVER_UNAVAILABLE = 3;
const NOT_AUTHORIZED = 5;

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
        done(error);
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
      authenticateDevice(deps.db, username, password).then(
        (result) => {
          const willTopic = willTopicOf.get(client);
          if (result.ok && willTopic !== undefined && publishTopicKind(willTopic, result.deviceId) === undefined) {
            // A Sparkplug NDEATH is a will (Sparkplug 3.0 §6.4.11): it must be a topic the device may publish.
            refuse({ reason: 'topic_not_allowed', clientId: client.id, deviceId: result.deviceId, detail: `will on "${willTopic}"` });
            return done(connackError('not authorized', NOT_AUTHORIZED) as never, false);
          }
          if (result.ok) {
            deviceOf.set(client, result.deviceId);
            connectionOf.set(client, orderer.opened(result.deviceId));
            return done(null, true);
          }
          refuse({ reason: 'bad_credentials', clientId: client.id, deviceId: username, detail: result.detail });
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
      const kind = deviceId === undefined ? undefined : publishTopicKind(packet.topic, deviceId);
      if (deviceId === undefined || kind === undefined) {
        refuse({ reason: 'topic_not_allowed', clientId: client.id, deviceId, detail: `publish to "${packet.topic}"` });
        return done(new Error('topic not allowed'));
      }
      enqueue(client, deviceId, kind, packet, done);
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
  // Socket errors of one client (resets, malformed packets) must not reach the process.
  broker.on('clientError', () => {});
  broker.on('connectionError', () => {});

  const handle = (stream: Duplex, request?: IncomingMessage) => {
    const client = broker.handle(stream, request);
    guardPacketSize(stream, options.maxPacketBytes, (announcedBytes) =>
      refuse({
        reason: 'packet_too_large',
        clientId: client.id ?? undefined,
        deviceId: deviceOf.get(client),
        detail: `packet of ${announcedBytes} bytes; the limit is ${options.maxPacketBytes}`,
      }),
    );
  };

  const listeners: Listener[] = [await listenTcp(options.host, options.port, handle)];
  if (options.wsPort !== undefined) {
    listeners.push(await listenWebSocket(options.host, options.wsPort, options.maxPacketBytes, handle));
  }

  let closing: Promise<void> | undefined;
  return {
    events,
    port: listeners[0]?.port ?? 0,
    wsPort: options.wsPort === undefined ? undefined : listeners[1]?.port,
    get connectedClients() {
      return broker.connectedClients;
    },
    close() {
      // Stop new connections, send what was accepted (and so acknowledge it), then
      // disconnect the devices: nothing acknowledged is left in memory.
      closing ??= (async () => {
        const listenersClosed = Promise.allSettled(listeners.map((listener) => listener.close()));
        await deps.batcher.close();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        // A listener counts as closed once its last connection is gone, i.e. after the broker.
        await listenersClosed;
      })();
      return closing;
    },
  };
}
