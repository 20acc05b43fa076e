import type { Duplex } from 'node:stream';

/**
 * aedes has no packet size limit: its parser buffers a whole packet before handling
 * it, so one client announcing a 256 MB PUBLISH could exhaust memory. This guard reads
 * the MQTT fixed header of every packet as bytes arrive (MQTT-2.2.3: remaining length
 * is a 1–4 byte varint) and closes the connection as soon as a packet announces more
 * than `maxPacketBytes`, before its body is buffered.
 *
 * It listens to 'data' events: aedes consumes the stream with read() in paused mode,
 * and Readable emits 'data' for every chunk read() returns (before the parser sees
 * it), so listening changes neither the mode nor the order.
 */
export function guardPacketSize(stream: Duplex, maxPacketBytes: number, onTooLarge: (announcedBytes: number) => void): void {
  let headerBytes = 0; // bytes of the current fixed header seen so far
  let remaining = 0; // remaining length being decoded, then bytes of body left to skip
  let multiplier = 1;
  let inBody = false;

  function refuse(announcedBytes: number): void {
    stream.removeListener('data', scan);
    onTooLarge(announcedBytes);
    stream.destroy();
  }

  function scan(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (inBody) {
        const skip = Math.min(remaining, chunk.length - offset);
        remaining -= skip;
        offset += skip;
        if (remaining === 0) inBody = false;
        continue;
      }
      const byte = chunk[offset++] as number;
      headerBytes += 1;
      if (headerBytes === 1) {
        remaining = 0;
        multiplier = 1;
        continue; // packet type and flags
      }
      remaining += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (byte & 0x80) {
        if (headerBytes === 5) return refuse(Number.POSITIVE_INFINITY); // malformed: varint longer than 4 bytes
        continue;
      }
      const total = headerBytes + remaining;
      headerBytes = 0;
      if (total > maxPacketBytes) return refuse(total);
      inBody = remaining > 0;
    }
  }

  stream.on('data', scan);
}
