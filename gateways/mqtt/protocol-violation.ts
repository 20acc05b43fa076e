/**
 * Telling a client that broke MQTT 3.1.1 apart from one whose connection merely ended.
 * aedes closes the connection in both cases and reports one error event; only the first
 * is counted and logged as `malformed_packet`.
 */

/** aedes' own errors that are about the connection's life, not about what the client sent. */
const CONNECTION_LIFECYCLE = [
  'keep alive timeout',
  'connect did not arrive in time',
  'drain timeout',
  'connection closed',
  'Client queue limit reached',
  // The broker is shutting down: publishes still in flight meet its closed emitter.
  'mqemitter is closed',
];

/**
 * The protocol violation an aedes `clientError`/`connectionError` stands for, or
 * `undefined` for network failures (ECONNRESET and friends carry a `code`), timeouts and
 * CONNACK refusals (a `returnCode`, set by the gateway's authenticate hook). Errors the
 * gateway's other hooks return are its own refusals; the caller leaves those out.
 */
export function protocolViolation(error: Error & { code?: unknown; returnCode?: unknown }): string | undefined {
  if (typeof error.code === 'string' || error.returnCode !== undefined) return undefined;
  if (CONNECTION_LIFECYCLE.some((message) => error.message.startsWith(message))) return undefined;
  // aedes answers a packet before CONNECT, or a second CONNECT, with "Invalid protocol" (MQTT-3.1.0-1, -2).
  return error.message === 'Invalid protocol' ? 'a packet before CONNECT, or a second CONNECT' : error.message;
}

/**
 * MQTT-1.5.3-1 and -2: a topic with ill-formed UTF-8 (which the parser decodes to
 * U+FFFD) or U+0000 is a protocol violation, not a topic outside the namespace.
 */
export function topicIllFormed(topic: string): boolean {
  return topic.includes('\uFFFD') || topic.includes('\u0000');
}
