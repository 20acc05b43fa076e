import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { guardPacketSize } from './packet-size-guard.js';

function publishPacket(payloadBytes: number): Buffer {
  return mqttPacket.generate({
    cmd: 'publish', topic: 'sensors/d/telemetry', payload: Buffer.alloc(payloadBytes, 120), qos: 0, dup: false, retain: false,
  });
}

/** Feeds bytes in the given chunk sizes through a stream read the way aedes reads it (paused, read()). */
function feed(bytes: Buffer, chunkSize: number, maxPacketBytes: number): number[] {
  const stream = new PassThrough();
  const refused: number[] = [];
  stream.on('readable', () => {
    while (stream.read() !== null) { /* consumed as aedes would */ }
  });
  guardPacketSize(stream, maxPacketBytes, (bytesAnnounced) => refused.push(bytesAnnounced));
  for (let offset = 0; offset < bytes.length && !stream.destroyed; offset += chunkSize) {
    stream.write(bytes.subarray(offset, offset + chunkSize));
    while (stream.read() !== null) { /* drain */ }
  }
  return refused;
}

describe('packet size guard', () => {
  const small = publishPacket(100);
  const large = publishPacket(5000);

  it.each([1, 2, 3, 7, 64, 100_000])('lets packets within the limit through in chunks of %i bytes', (chunk) => {
    expect(feed(Buffer.concat([small, small, small, small]), chunk, 1024)).toEqual([]);
  });

  it.each([1, 5, 64, 100_000])('refuses the first packet above the limit in chunks of %i bytes, naming its size', (chunk) => {
    expect(feed(Buffer.concat([small, large, small]), chunk, 1024)).toEqual([large.length]);
  });

  it('counts the fixed header: a packet of exactly the limit passes, one byte more does not', () => {
    const exact = publishPacket(100);
    expect(feed(exact, 13, exact.length)).toEqual([]);
    expect(feed(exact, 13, exact.length - 1)).toEqual([exact.length]);
  });

  it('refuses a remaining length longer than four bytes as malformed', () => {
    expect(feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]), 1, 1 << 20)).toEqual([Number.POSITIVE_INFINITY]);
  });
});
