/**
 * The idle-connection generator, its own process (forked by idle-connections.ts): one raw
 * MQTT 3.1.1 connection per device with its own credentials, a window of CONNECTs in
 * flight, then nothing but PINGREQs at the keep-alive pace until told to close. Packets
 * by mqtt-packet, no client library: thousands of connections cost this process little.
 */
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { GeneratorReply, IdlePlan } from './idle-connections.js';

const PROGRESS_MS = 1000;

function send(message: GeneratorReply): void {
  process.send?.(message);
}

const sockets: Socket[] = [];
const errors: string[] = [];
let open = 0;
let failed = 0;
let droppedByBroker = 0;
let closing = false;

function noteError(text: string): void {
  if (errors.length < 10) errors.push(text);
}

const PINGREQ = mqttPacket.generate({ cmd: 'pingreq' });
const DISCONNECT = mqttPacket.generate({ cmd: 'disconnect' });

/** Resolves true on CONNACK 0, false on a refusal, an error or a close before it. */
function openOne(plan: IdlePlan, device: { id: string; secret: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: plan.host, port: plan.port, noDelay: true });
    let accepted = false;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      if (packet.cmd !== 'connack') return;
      if (packet.returnCode !== 0) {
        noteError(`${device.id}: CONNACK ${packet.returnCode}`);
        socket.destroy();
        return settle(false);
      }
      accepted = true;
      open += 1;
      sockets.push(socket);
      // MQTT-3.1.2-24: the broker drops a client silent for 1.5 × keep-alive; ping at half of it, spread out.
      const pingMs = (plan.keepaliveS * 1000) / 2;
      setTimeout(() => setInterval(() => socket.write(PINGREQ), pingMs).unref(), Math.random() * pingMs).unref();
      settle(true);
    });
    parser.on('error', (error) => noteError(`${device.id}: ${error.message}`));
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', (error) => noteError(`${device.id}: ${error.message}`));
    socket.on('close', () => {
      if (accepted) {
        open -= 1;
        if (!closing) droppedByBroker += 1;
      }
      settle(false);
    });
    socket.write(mqttPacket.generate({
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: plan.keepaliveS,
      clientId: device.id, username: device.id, password: Buffer.from(device.secret),
    }));
  });
}

async function openAll(plan: IdlePlan): Promise<void> {
  const started = performance.now();
  let next = 0;
  const progress = setInterval(() => send({ type: 'progress', open, failed }), PROGRESS_MS);
  const lane = async () => {
    for (let index = next++; index < plan.devices.length; index = next++) {
      if (!(await openOne(plan, plan.devices[index]!))) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: plan.connectsAtOnce }, lane));
  clearInterval(progress);
  send({ type: 'connected', open, failed, connectMs: performance.now() - started, errors });
}

process.on('message', (message: IdlePlan | { type: 'close' }) => {
  if (message.type === 'plan') {
    openAll(message).catch((error: Error) => send({ type: 'failed', error: error.stack ?? error.message }));
    return;
  }
  closing = true;
  const stillOpen = open;
  for (const socket of sockets) socket.end(DISCONNECT);
  send({ type: 'closed', stillOpen, droppedByBroker, errors });
  setTimeout(() => process.exit(0), 500).unref();
  process.disconnect?.();
});
