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

function report(message: GeneratorMessage): void {
  process.send?.(message);
}

interface Connection {
  deviceId: string;
  socket: Socket;
  topic: Buffer;
  inFlight: number;
  nextPacketId: number;
  lastTimeMs: number;
  seq: number;
  open: boolean;
}

const counts = { sent: 0, acked: 0 };
const errors: string[] = [];
let publishing = false;

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
  connection.socket.write(publishPacket(connection, payload));
  connection.nextPacketId = connection.nextPacketId === 65_535 ? 1 : connection.nextPacketId + 1;
  connection.inFlight += 1;
  counts.sent += 1;
}

function fill(connection: Connection, plan: LoadPlan): void {
  while (publishing && connection.open && connection.inFlight < plan.inFlightPerConnection) publish(connection, plan);
}

function open(plan: LoadPlan, deviceId: string, closedLoop: boolean): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
    const connection: Connection = {
      deviceId, socket, topic: Buffer.from(`sensors/${deviceId}/telemetry`), inFlight: 0, nextPacketId: 1, lastTimeMs: 0, seq: 0, open: false,
    };
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      if (packet.cmd === 'connack') {
        if (packet.returnCode !== 0) return reject(new Error(`${deviceId}: CONNACK ${packet.returnCode}`));
        connection.open = true;
        resolve(connection);
      } else if (packet.cmd === 'puback') {
        connection.inFlight -= 1;
        counts.acked += 1;
      }
    });
    parser.on('error', (error) => noteError(`${deviceId}: ${error.message}`));
    socket.on('data', (chunk) => {
      // One chunk often holds a whole batch's PUBACKs: the refills go out in one write.
      socket.cork();
      parser.parse(chunk);
      if (closedLoop) fill(connection, plan);
      socket.uncork();
    });
    socket.on('error', (error) => {
      noteError(`${deviceId}: ${error.message}`);
      reject(error);
    });
    socket.on('close', () => {
      if (connection.open && publishing) noteError(`${deviceId}: connection closed by the broker`);
      connection.open = false;
    });
    socket.write(mqttPacket.generate({
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: KEEPALIVE_S,
      clientId: `bench-${deviceId}`, username: deviceId, password: Buffer.from(plan.secret),
    }));
  });
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
  while (connections.some((connection) => connection.open && connection.inFlight > 0) && Date.now() < drainUntil) await delay(20);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpuStarted);
  const closedConnections = connections.filter((connection) => !connection.open).length;
  await Promise.all(connections.map((connection) => new Promise<void>((resolve) => {
    if (!connection.open) return resolve();
    connection.open = false;
    connection.socket.end(mqttPacket.generate({ cmd: 'disconnect' }), () => resolve());
  })));
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
