import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { parseConfig } from '../../config/config-schema.js';
import { findFreePort } from '../../runtime/free-port.js';
import { startStack, type Stack } from '../../runtime/stack.js';
import { testRedisUrl } from './services.js';

export interface TestStack {
  stack: Stack;
  apiUrl: string;
  mqttUrl: string;
  wsUrl: string;
  /** mqtts:// and wss://…/mqtt; only listening with TLS_CERT_FILE in `env`. */
  mqttsUrl: string;
  wssUrl: string;
  adminKey: string;
  dataDir: string;
  /** Stops the stack; the data folder stays until `remove()`. */
  close(): Promise<void>;
  remove(): Promise<void>;
}

export interface TestStackOptions {
  /** Reuse a data folder (and admin key / queue prefix) to restart a stopped stack; a new folder when `dataDir` is undefined. */
  reuse?: { dataDir: string | undefined; adminKey: string; queuePrefix: string };
  env?: Record<string, string>;
  /** Where the stack logs; silent when undefined. */
  logger?: Logger;
}

/**
 * A whole stack in this process, as `npm start` runs it: embedded PGlite+TimescaleDB
 * in a fresh folder, the test run's Redis under a prefix of its own, free ports on
 * 127.0.0.1.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack & { queuePrefix: string }> {
  const dataDir = options.reuse?.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'urbansense-stack-')));
  const adminKey = options.reuse?.adminKey ?? `test-admin-${randomBytes(16).toString('hex')}`;
  const queuePrefix = options.reuse?.queuePrefix ?? `t-${randomUUID().slice(0, 8)}`;
  const config = parseConfig({
    DATA_DIR: dataDir,
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: queuePrefix,
    LISTEN_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    // 0 would disable the WebSocket listener rather than pick a port.
    MQTT_WS_PORT: String(await findFreePort()),
    HTTP_PORT: '0',
    API_ADMIN_KEY: adminKey,
    LOG_LEVEL: 'silent',
    INGEST_BATCH_MAX_WAIT_MS: '5',
    // Free ports, not the defaults 8883 and 8084, for stacks with TLS_CERT_FILE (0 would disable them).
    ...(options.env?.TLS_CERT_FILE === undefined ? {} : { MQTT_TLS_PORT: String(await findFreePort()), MQTT_WSS_PORT: String(await findFreePort()) }),
    ...options.env,
  });
  const stack = await startStack(config, options.logger ?? pino({ level: 'silent' }));
  return {
    stack,
    dataDir,
    adminKey,
    queuePrefix,
    apiUrl: `${config.apiTls ? 'https' : 'http'}://127.0.0.1:${stack.api?.port ?? 0}`,
    mqttUrl: `mqtt://127.0.0.1:${stack.gateway?.port ?? 0}`,
    wsUrl: `ws://127.0.0.1:${stack.gateway?.wsPort ?? 0}/mqtt`,
    mqttsUrl: `mqtts://127.0.0.1:${stack.gateway?.tlsPort ?? 0}`,
    wssUrl: `wss://127.0.0.1:${stack.gateway?.wssPort ?? 0}/mqtt`,
    close: () => stack.close(),
    remove: async () => {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
