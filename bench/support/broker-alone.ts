/**
 * The broker alone, for the baseline: the gateway's own listener, authentication and
 * envelope batching, with a batcher whose send succeeds at once (no Redis, no
 * pipeline), so PUBACKs measure what the broker itself can accept.
 * Environment: DATABASE_URL (devices for authentication), MQTT_PORT, INGEST_BATCH_MAX_MESSAGES.
 */
import { createMqttGateway } from '../../gateways/mqtt/mqtt-gateway.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { createPgDatabase } from '../../storage/pg-database.js';

const db = createPgDatabase({ connectionString: process.env.DATABASE_URL ?? '' });
const batcher = createEnvelopeBatcher({
  maxEnvelopes: Number(process.env.INGEST_BATCH_MAX_MESSAGES ?? 500),
  maxWaitMs: 10,
  maxPayloadChars: 1024 * 1024,
  send: async () => {},
});
const gateway = await createMqttGateway(
  { host: '127.0.0.1', port: Number(process.env.MQTT_PORT ?? 0), wsPort: undefined, maxPacketBytes: 65_536 },
  { db, batcher },
);
process.stdout.write(`broker alone listening on ${gateway.port}\n`);
process.once('SIGTERM', () => {
  void gateway.close().then(() => db.close()).then(() => process.exit(0));
});
