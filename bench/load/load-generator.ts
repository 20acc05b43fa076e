/**
 * The load generator, its own process (forked by bench/load/run-load.ts): one raw MQTT
 * 3.1.1 connection per device, QoS 1 publishes with a bounded in-flight window per
 * connection. Packets are written by hand and PUBACKs parsed by mqtt-packet, so the
 * generator costs little next to the broker it measures (the broker-alone baseline
 * shows how far it can go).
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import mqttPacket from 'mqtt-packet';
import { telemetryPayload, type GeneratorMessage, type LoadPlan } from './load-plan.js';

const CONNECTS_AT_ONCE = 32;
const RATE_TICK_MS = 5;
const PROGRESS_MS = 1000;
const KEEPALIVE_S = 600;
/** After the broker closes or refuses a connection: the first retry, doubled up to the last. */
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 4000;

function report(message: GeneratorMessage): void {
  process.send?.(message);
}

interface Connection {
  deviceId: string;
  socket: Socket;
  topic: Buffer;
  /** Publishes awaiting PUBACK, by packet id, as written: resent (DUP) after a reconnect. */
  unacked: Map<number, Buffer>;
  inFlight: number;
  reconnectMs: number;
  nextPacketId: number;
  lastTimeMs: number;
  seq: number;
  open: boolean;
}

const counts = { sent: 0, acked: 0 };
const errors: string[] = [];
let publishing = false;
/** Set once the run is over: closed connections are no longer reopened. */
let stopping = false;
let reconnects = 0;

function noteError(text: string): void {
  if (errors.length < 20) errors.push(text);
}

/** MQTT 3.1.1 §3.3: PUBLISH, QoS 1, with a packet identifier. */
function publishPacket(connection: Connection, payload: Buffer): Buffer {
  const remaining = 2 + connection.topic.length + 2 + payload.length;
  const lengthBytes: number[] = [];
  let rest = remaining;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    lengthBytes.push(byte);
  } while (rest > 0);
  const packet = Buffer.allocUnsafe(1 + lengthBytes.length + remaining);
  let offset = packet.writeUInt8(0x32, 0);
  for (const byte of lengthBytes) offset = packet.writeUInt8(byte, offset);
  offset = packet.writeUInt16BE(connection.topic.length, offset);
  offset += connection.topic.copy(packet, offset);
  offset = packet.writeUInt16BE(connection.nextPacketId, offset);
  payload.copy(packet, offset);
  return packet;
}

function publish(connection: Connection, plan: LoadPlan): void {
  // Strictly increasing per device, and the publish time whenever the device is not ahead of the clock.
  const timeMs = Math.max(Date.now(), connection.lastTimeMs + 1);
  connection.lastTimeMs = timeMs;
  const payload = Buffer.from(telemetryPayload(timeMs, plan.readingsPerMessage, connection.seq++));
  // An id still awaiting its PUBACK (from before a reconnect) is not reused.
  while (connection.unacked.has(connection.nextPacketId)) connection.nextPacketId = connection.nextPacketId === 65_535 ? 1 : connection.nextPacketId + 1;
  const packet = publishPacket(connection, payload);
  connection.unacked.set(connection.nextPacketId, packet);
  connection.socket.write(packet);
  connection.nextPacketId = connection.nextPacketId === 65_535 ? 1 : connection.nextPacketId + 1;
  connection.inFlight = connection.unacked.size;
  counts.sent += 1;
}

function fill(connection: Connection, plan: LoadPlan): void {
  while (publishing && connection.open && connection.inFlight < plan.inFlightPerConnection) publish(connection, plan);
}

/**
 * Connects `connection` on a new socket. Like a real device, a connection the broker closes
 * or refuses (backpressure: CONNACK 3, a publish answered by a close) is opened again after
 * a back-off, and every publish still without its PUBACK is sent again with DUP set;
 * storage keeps one copy. `started` hears how the initial connect ended; a failed one is
 * not retried (the run fails).
 */
function attach(connection: Connection, plan: LoadPlan, closedLoop: boolean, started?: (error: Error | undefined) => void): void {
  const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
  connection.socket = socket;
  let starting = started;
  let failed = false;
  const fail = (error: Error) => {
    if (starting === undefined) return noteError(`${connection.deviceId}: ${error.message}`);
    failed = true;
    starting(error);
    starting = undefined;
  };
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (packet) => {
    if (packet.cmd === 'connack') {
      if (packet.returnCode !== 0) {
        if (starting !== undefined) fail(new Error(`${connection.deviceId}: CONNACK ${packet.returnCode}`));
        socket.destroy();
        return;
      }
      connection.open = true;
      connection.reconnectMs = RECONNECT_FIRST_MS;
      for (const unacked of connection.unacked.values()) {
        unacked[0] = 0x3a; // PUBLISH, DUP, QoS 1 (MQTT 3.1.1 §3.3.1.1)
        socket.write(unacked);
      }
      if (starting !== undefined) {
        starting(undefined);
        starting = undefined;
      } else if (closedLoop) fill(connection, plan);
    } else if (packet.cmd === 'puback') {
      if (packet.messageId !== undefined && connection.unacked.delete(packet.messageId)) counts.acked += 1;
      connection.inFlight = connection.unacked.size;
    }
  });
  parser.on('error', (error) => noteError(`${connection.deviceId}: ${error.message}`));
  socket.on('data', (chunk) => {
    // One chunk often holds a whole batch's PUBACKs: the refills go out in one write.
    socket.cork();
    parser.parse(chunk);
    if (closedLoop) fill(connection, plan);
    socket.uncork();
  });
  socket.on('error', fail);
  socket.on('close', () => {
    connection.open = false;
    if (failed || stopping) return;
    reconnects += 1;
    const wait = connection.reconnectMs * (0.5 + Math.random());
    connection.reconnectMs = Math.min(RECONNECT_MAX_MS, connection.reconnectMs * 2);
    setTimeout(() => {
      if (!stopping) attach(connection, plan, closedLoop);
    }, wait).unref();
  });
  socket.write(mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: KEEPALIVE_S,
    clientId: `bench-${connection.deviceId}`, username: connection.deviceId, password: Buffer.from(plan.secret),
  }));
}

function open(plan: LoadPlan, deviceId: string, closedLoop: boolean): Promise<Connection> {
  const connection: Connection = {
    deviceId, socket: undefined as unknown as Socket, topic: Buffer.from(`sensors/${deviceId}/telemetry`), unacked: new Map(), inFlight: 0,
    reconnectMs: RECONNECT_FIRST_MS, nextPacketId: 1, lastTimeMs: 0, seq: 0, open: false,
  };
  return new Promise((resolve, reject) => attach(connection, plan, closedLoop, (error) => (error === undefined ? resolve(connection) : reject(error))));
}

async function openAll(plan: LoadPlan, closedLoop: boolean): Promise<Connection[]> {
  const connections: Connection[] = [];
  for (let start = 0; start < plan.deviceIds.length; start += CONNECTS_AT_ONCE) {
    const group = plan.deviceIds.slice(start, start + CONNECTS_AT_ONCE);
    connections.push(...(await Promise.all(group.map((id) => open(plan, id, closedLoop)))));
  }
  return connections;
}

/** Open loop: `messagesPerSecond` spread over the connections, each within its window. */
function paced(connections: Connection[], plan: LoadPlan, messagesPerSecond: number): NodeJS.Timeout {
  const started = performance.now();
  let next = 0;
  return setInterval(() => {
    let due = Math.floor(((performance.now() - started) / 1000) * messagesPerSecond) - counts.sent;
    let idle = 0;
    while (due > 0 && idle < connections.length) {
      const connection = connections[next]!;
      next = (next + 1) % connections.length;
      if (!connection.open || connection.inFlight >= plan.inFlightPerConnection) {
        idle += 1;
        continue;
      }
      idle = 0;
      publish(connection, plan);
      due -= 1;
    }
  }, RATE_TICK_MS);
}

async function run(plan: LoadPlan): Promise<void> {
  const closedLoop = plan.messagesPerSecond === undefined;
  const connectStarted = performance.now();
  const connections = await openAll(plan, closedLoop);
  report({ type: 'connected', connections: connections.length, connectMs: Math.round(performance.now() - connectStarted) });

  const cpuStarted = process.cpuUsage();
  const progress = setInterval(() => report({ type: 'progress', atMs: Date.now(), ...counts }), PROGRESS_MS);
  const started = performance.now();
  publishing = true;
  const pacer = plan.messagesPerSecond === undefined ? undefined : paced(connections, plan, plan.messagesPerSecond);
  if (closedLoop) for (const connection of connections) fill(connection, plan);
  await delay(plan.durationMs);
  publishing = false;
  clearInterval(pacer);
  const publishMs = performance.now() - started;

  const drainUntil = Date.now() + (plan.drainTimeoutMs ?? 30_000);
  // Connections being reopened still owe their unacknowledged publishes: wait for those too.
  while (connections.some((connection) => connection.unacked.size > 0) && Date.now() < drainUntil) await delay(20);
  stopping = true;
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuStarted);
  const closedConnections = connections.filter((connection) => !connection.open).length;
  await Promise.all(connections.map((connection) => new Promise<void>((resolve) => {
    if (!connection.open) return resolve();
    connection.open = false;
    connection.socket.end(mqttPacket.generate({ cmd: 'disconnect' }), () => resolve());
  })));
  if (reconnects > 0) noteError(`${reconnects} reconnects after the broker closed or refused a connection (backpressure), unacknowledged publishes resent`);
  report({ type: 'done', ...counts, publishMs: Math.round(publishMs), closedConnections, errors, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
}

process.once('message', (plan: LoadPlan) => {
  run(plan).then(
    () => process.disconnect?.(),
    (error: Error) => {
      report({ type: 'failed', error: error.message });
      process.disconnect?.();
    },
  );
});
