/**
 * The stack's configuration: every environment variable it reads, declared once.
 * `parseConfig` runs at start-up; a bad value stops the process with a message naming
 * the variable. The same table renders the README's configuration section and is
 * checked against docker-compose.yml by a test.
 */

import { storageSettingsProblems, type StorageSettings } from '../storage/storage-settings.js';

export const ROLES = ['broker', 'opcua', 'worker', 'api'] as const;
export type Role = (typeof ROLES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** PostgreSQL (with or without TimescaleDB); unset: embedded PGlite under DATA_DIR. */
  databaseUrl: string | undefined;
  /** Unset: the stack starts its own redis-server with data under DATA_DIR. */
  redisUrl: string | undefined;
  dataDir: string;
  roles: readonly Role[];
  listenHost: string;
  /** `undefined` (MQTT_PORT=off) turns plain MQTT over TCP off. */
  mqttPort: number | undefined;
  /** 0 disables the MQTT-over-WebSocket listener. */
  mqttWsPort: number;
  mqttMaxPacketBytes: number;
  /** Open MQTT connections per client address; 0 turns the limit off. */
  mqttMaxConnectionsPerAddress: number;
  /** Failed MQTT logins per address and minute before its logins are refused unchecked; 0 turns it off. */
  mqttMaxAuthFailuresPerMinute: number;
  /** Messages waiting to be stored (queued and in the broker) at which the broker slows devices (docs/backpressure.md). */
  mqttBacklogHighWater: number;
  /** Messages the broker holds unacknowledged at once while slowing; more and it refuses. */
  mqttBackpressureMaxHeld: number;
  /** Longest a message is held while slowing before the broker refuses. */
  mqttBackpressureMaxHoldMs: number;
  httpPort: number;
  /** PEM certificate chain of the TLS listeners; unset: none run. */
  tlsCertFile: string | undefined;
  /** PEM private key of `tlsCertFile`. */
  tlsKeyFile: string | undefined;
  /** MQTT over TLS; 0 disables it. Runs only with `tlsCertFile`. */
  mqttTlsPort: number;
  /** MQTT over secure WebSocket; 0 disables it. Runs only with `tlsCertFile`. */
  mqttWssPort: number;
  /** PEM CA certificates; set: mqtts and wss devices must present a client certificate one of them signed. */
  mqttTlsClientCaFile: string | undefined;
  /** The API speaks HTTPS (only) on `httpPort`; defaults to whether `tlsCertFile` is set. */
  apiTls: boolean;
  apiAdminKey: string | undefined;
  logLevel: LogLevel;
  queuePrefix: string;
  batchMaxEnvelopes: number;
  batchMaxWaitMs: number;
  workerConcurrency: number;
  /** A job whose worker stopped renewing its lock this long goes back to the queue (BullMQ lockDuration and stalledInterval). */
  workerStalledAfterMs: number;
  apiMaxRangeReadings: number;
  /** Requests per minute per API key (per client address without one); 0 turns the limit off. */
  apiRateLimitPerMinute: number;
  /** Browser origins allowed by CORS, or `*`; unset: no CORS headers (same-origin only). */
  apiCorsOrigins: readonly string[] | undefined;
  /** JSON or YAML file of metrics, aliases and units added to the built-in catalogue. */
  metricCatalogueFile: string | undefined;
  /** JSON or YAML file of vendor payload profiles. */
  deviceProfilesFile: string | undefined;
  /** Device timestamps further ahead of the worker's clock are quarantined. */
  maxFutureSkewMs: number;
  /** Storage (storage/storage-settings.ts): raw chunk / partition width. */
  storageChunkIntervalHours: number;
  /** Raw readings kept this long; 0 keeps them forever. */
  storageRawRetentionDays: number;
  /** 1-minute rollups kept this long; 0 keeps them forever. */
  storageRollup1mRetentionDays: number;
  /** 1-hour rollups kept this long; 0 keeps them forever. */
  storageRollup1hRetentionDays: number;
  /** Raw chunks compressed after this long (TimescaleDB); 0 never. */
  storageCompressAfterDays: number;
  /** How often storage maintenance runs and rollups are refreshed. */
  storageMaintenanceIntervalMs: number;
  /** The OPC UA gateway's mapping (servers, security, nodes); the opcua role is idle without one. */
  opcuaConfigFile: string | undefined;
  /** The OPC UA gateway's certificate store; unset: DATA_DIR/opcua-pki. */
  opcuaPkiDir: string | undefined;
  /** Values held per OPC UA server while the queue is unreachable. */
  opcuaBacklogMaxValues: number;
  /** Issue 7: how often the worker role checks for offline devices. */
  offlineCheckIntervalMs: number;
  /** How often a device is expected to report, unless its own `expected_interval_s` says otherwise. */
  deviceExpectedIntervalS: number;
  /** A device is offline after its expected interval × this much silence. */
  deviceOfflineFactor: number;
  /** Where alert changes are POSTed; unset: no webhook. */
  alertWebhookUrl: string | undefined;
  /** HMAC-SHA256 key of the webhook signature header. */
  alertWebhookSecret: string | undefined;
  /** JSON or YAML list of alert rules seeded at start when their id is absent. */
  alertRulesFile: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Parse<T> = (raw: string) => T;

interface Variable<K extends keyof Config> {
  key: K;
  env: string;
  description: string;
  /** Shown in the README; `undefined` means "unset". */
  defaultText: string;
  defaultValue: Config[K];
  parse: Parse<Config[K]>;
}

function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

function port(allowZero: boolean): Parse<number> {
  return integer(allowZero ? 0 : 1, 65535);
}

/** `off` turns the listener off (`undefined`); a number is a port as {@link port} reads it. */
function portOrOff(allowZero: boolean): Parse<number | undefined> {
  return (raw) => (raw.trim().toLowerCase() === 'off' ? undefined : port(allowZero)(raw));
}

const onOff: Parse<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new Error(`must be on or off, got "${raw}"`);
};

function url(protocols: readonly string[]): Parse<string> {
  return (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`must be a URL like ${protocols[0]}//host:port/…, got "${redact(raw)}"`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new Error(`must start with ${protocols.join(' or ')}, got "${parsed.protocol}"`);
    }
    return raw;
  };
}

/** Configuration errors are printed; a URL may hold a password. */
function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(value)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return value as T;
  };
}

const parseRoles: Parse<readonly Role[]> = (raw) => {
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) throw new Error('must name at least one role');
  if (names.includes('all')) return ROLES;
  const unknown = names.filter((name) => !(ROLES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown role "${unknown.join(', ')}"; roles are all, ${ROLES.join(', ')}`);
  return ROLES.filter((role) => names.includes(role));
};

const nonEmpty: Parse<string> = (raw) => {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw.trim();
};

const apiKey: Parse<string> = (raw) => {
  if (raw.length < 16) throw new Error('must be at least 16 characters long');
  return raw;
};

const corsOrigins: Parse<readonly string[]> = (raw) => {
  const origins = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
  if (origins.length === 1 && origins[0] === '*') return origins;
  const bad = origins.filter((origin) => !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin));
  if (bad.length > 0 || origins.length === 0) throw new Error(`must be "*" or comma-separated origins like https://dashboard.example.org, got ${bad.map((origin) => `"${origin}"`).join(', ') || 'none'}`);
  return origins;
};

const queuePrefix: Parse<string> = (raw) => {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(raw)) throw new Error(`must be 1–32 letters, digits, "_" or "-", got "${raw}"`);
  return raw;
};

function variable<K extends keyof Config>(spec: Variable<K>): Variable<K> {
  return spec;
}

export const CONFIG_VARIABLES = [
  variable({ key: 'databaseUrl', env: 'DATABASE_URL', defaultText: 'unset: embedded PGlite + TimescaleDB in DATA_DIR/pglite', defaultValue: undefined, parse: url(['postgres:', 'postgresql:']), description: 'PostgreSQL ≥ 14, with TimescaleDB when the server has it.' }),
  variable({ key: 'redisUrl', env: 'REDIS_URL', defaultText: 'unset: a redis-server started by the stack, data in DATA_DIR/redis', defaultValue: undefined, parse: url(['redis:', 'rediss:']), description: 'Redis for the queue (BullMQ). Use AOF persistence in production.' }),
  variable({ key: 'dataDir', env: 'DATA_DIR', defaultText: './data', defaultValue: './data', parse: nonEmpty, description: 'Local state: embedded database, local Redis, generated admin key.' }),
  variable({ key: 'roles', env: 'ROLES', defaultText: 'all', defaultValue: ROLES, parse: parseRoles, description: 'Comma-separated roles this process runs: broker, opcua, worker, api, or all.' }),
  variable({ key: 'listenHost', env: 'LISTEN_HOST', defaultText: '0.0.0.0', defaultValue: '0.0.0.0', parse: nonEmpty, description: 'Address the MQTT and HTTP listeners bind to.' }),
  variable({ key: 'mqttPort', env: 'MQTT_PORT', defaultText: '1883', defaultValue: 1883, parse: portOrOff(true), description: 'MQTT over TCP (0 picks a free port; off turns it off, e.g. to accept devices over TLS only).' }),
  variable({ key: 'mqttWsPort', env: 'MQTT_WS_PORT', defaultText: '8083', defaultValue: 8083, parse: port(true), description: 'MQTT over WebSocket, path /mqtt (0 disables it).' }),
  variable({ key: 'mqttMaxPacketBytes', env: 'MQTT_MAX_PACKET_BYTES', defaultText: '65536', defaultValue: 65536, parse: integer(1024, 16 * 1024 * 1024), description: 'Largest MQTT packet accepted; a larger one closes the connection.' }),
  variable({ key: 'mqttMaxConnectionsPerAddress', env: 'MQTT_MAX_CONNECTIONS_PER_ADDRESS', defaultText: '1000', defaultValue: 1000, parse: integer(0, 1_000_000), description: 'Open MQTT connections one client address may hold; more are closed as they are accepted (docs/security.md). 0 turns the limit off.' }),
  variable({ key: 'mqttMaxAuthFailuresPerMinute', env: 'MQTT_MAX_AUTH_FAILURES_PER_MINUTE', defaultText: '30', defaultValue: 30, parse: integer(0, 1_000_000), description: 'Failed MQTT logins from one address within a minute after which its logins are refused, unchecked, for the rest of the minute (docs/security.md). 0 turns it off.' }),
  variable({ key: 'mqttBacklogHighWater', env: 'MQTT_BACKLOG_HIGH_WATER', defaultText: '100000', defaultValue: 100_000, parse: integer(100, 100_000_000), description: 'Messages waiting to be stored (in the ingest queue and the broker) at which the broker stops acknowledging and holds new messages, slowing devices (docs/backpressure.md).' }),
  variable({ key: 'mqttBackpressureMaxHeld', env: 'MQTT_BACKPRESSURE_MAX_HELD', defaultText: '5000', defaultValue: 5000, parse: integer(1, 1_000_000), description: 'Messages held unacknowledged at once while slowing; beyond, the broker refuses publishes and CONNECTs until the backlog is half the mark.' }),
  variable({ key: 'mqttBackpressureMaxHoldMs', env: 'MQTT_BACKPRESSURE_MAX_HOLD_MS', defaultText: '10000', defaultValue: 10_000, parse: integer(100, 600_000), description: 'Longest a message is held while slowing (ms) before the broker refuses; keep it well under device keep-alive intervals.' }),
  variable({ key: 'httpPort', env: 'HTTP_PORT', defaultText: '3000', defaultValue: 3000, parse: port(true), description: 'HTTP API (0 picks a free port); HTTPS when API_TLS is on.' }),
  variable({ key: 'tlsCertFile', env: 'TLS_CERT_FILE', defaultText: 'unset: no TLS listeners', defaultValue: undefined, parse: nonEmpty, description: 'PEM certificate (server certificate first, then its chain) for mqtts, wss and HTTPS (README, "TLS"); checked at start.' }),
  variable({ key: 'tlsKeyFile', env: 'TLS_KEY_FILE', defaultText: 'unset', defaultValue: undefined, parse: nonEmpty, description: 'PEM private key of TLS_CERT_FILE, not passphrase-protected; required with it and checked to match it.' }),
  variable({ key: 'mqttTlsPort', env: 'MQTT_TLS_PORT', defaultText: '8883', defaultValue: 8883, parse: port(true), description: 'MQTT over TLS (mqtts) when TLS_CERT_FILE is set (0 disables it).' }),
  variable({ key: 'mqttWssPort', env: 'MQTT_WSS_PORT', defaultText: '8084', defaultValue: 8084, parse: port(true), description: 'MQTT over secure WebSocket (wss), path /mqtt, when TLS_CERT_FILE is set (0 disables it).' }),
  variable({ key: 'mqttTlsClientCaFile', env: 'MQTT_TLS_CLIENT_CA_FILE', defaultText: 'unset: no client certificates', defaultValue: undefined, parse: nonEmpty, description: 'PEM CA certificates: devices on mqtts and wss must then present a certificate one of them signed, besides username and password.' }),
  variable({ key: 'apiTls', env: 'API_TLS', defaultText: 'unset: on when TLS_CERT_FILE is set', defaultValue: false, parse: onOff, description: 'on: the API speaks HTTPS only, with TLS_CERT_FILE; off: plain HTTP (e.g. behind a TLS-terminating proxy).' }),
  variable({ key: 'apiAdminKey', env: 'API_ADMIN_KEY', defaultText: 'unset: generated at first start, printed once, kept in DATA_DIR/admin-api-key', defaultValue: undefined, parse: apiKey, description: 'Bootstrap admin API key (at least 16 characters).' }),
  variable({ key: 'logLevel', env: 'LOG_LEVEL', defaultText: 'info', defaultValue: 'info', parse: oneOf(LOG_LEVELS), description: `Log level: ${LOG_LEVELS.join(', ')}.` }),
  variable({ key: 'queuePrefix', env: 'QUEUE_PREFIX', defaultText: 'urbansense', defaultValue: 'urbansense', parse: queuePrefix, description: 'Redis key prefix of the queues; stacks sharing a Redis need different ones.' }),
  variable({ key: 'batchMaxEnvelopes', env: 'INGEST_BATCH_MAX_MESSAGES', defaultText: '500', defaultValue: 500, parse: integer(1, 10000), description: 'Messages per queue job: a batch is sent when it has this many…' }),
  variable({ key: 'batchMaxWaitMs', env: 'INGEST_BATCH_MAX_WAIT_MS', defaultText: '10', defaultValue: 10, parse: integer(0, 5000), description: '…or when its first message has waited this long (ms). Devices get PUBACK after the send.' }),
  variable({ key: 'workerConcurrency', env: 'WORKER_CONCURRENCY', defaultText: '4', defaultValue: 4, parse: integer(1, 256), description: 'Queue jobs one worker process handles at once.' }),
  variable({ key: 'workerStalledAfterMs', env: 'WORKER_STALLED_AFTER_MS', defaultText: '30000', defaultValue: 30000, parse: integer(1000, 600_000), description: 'A job whose worker died (stopped renewing its lock) this long ago (ms) is handed to another worker; only a job that stalled 1000 times is failed.' }),
  variable({ key: 'apiMaxRangeReadings', env: 'API_MAX_READINGS', defaultText: '10000', defaultValue: 10000, parse: integer(1, 1000000), description: 'Largest page of raw readings one request may ask for.' }),
  variable({ key: 'apiRateLimitPerMinute', env: 'API_RATE_LIMIT_PER_MINUTE', defaultText: '6000', defaultValue: 6000, parse: integer(0, 1_000_000), description: 'Requests per minute each API key may make (each client address, without a key); more are answered 429. 0 turns the limit off.' }),
  variable({ key: 'apiCorsOrigins', env: 'API_CORS_ORIGINS', defaultText: 'unset: no CORS headers', defaultValue: undefined, parse: corsOrigins, description: 'Browser origins that may call the API (comma-separated, e.g. https://grafana.example.org), or * for any.' }),
  variable({ key: 'metricCatalogueFile', env: 'METRIC_CATALOGUE_FILE', defaultText: 'unset: the built-in catalogue only', defaultValue: undefined, parse: nonEmpty, description: 'JSON or YAML file adding metrics, aliases and units to the catalogue (docs/metrics.md); checked at start.' }),
  variable({ key: 'deviceProfilesFile', env: 'DEVICE_PROFILES_FILE', defaultText: 'unset: no vendor profiles', defaultValue: undefined, parse: nonEmpty, description: 'JSON or YAML file of vendor payload profiles (docs/payloads.md); checked at start.' }),
  variable({ key: 'maxFutureSkewMs', env: 'INGEST_MAX_FUTURE_SKEW_MS', defaultText: '600000', defaultValue: 600000, parse: integer(0, 7 * 24 * 3600 * 1000), description: 'Readings timestamped further ahead of the worker clock than this (ms) are quarantined.' }),
  variable({ key: 'storageChunkIntervalHours', env: 'STORAGE_CHUNK_INTERVAL_HOURS', defaultText: '24', defaultValue: 24, parse: integer(1, 8760), description: 'Width of a raw TimescaleDB chunk or PostgreSQL partition (hours); rollups use ten times it. Applies to chunks created from then on.' }),
  variable({ key: 'storageRawRetentionDays', env: 'STORAGE_RAW_RETENTION_DAYS', defaultText: '365', defaultValue: 365, parse: integer(0, 36500), description: 'Raw readings older than this (days) are dropped, a chunk at a time; 0 keeps them forever.' }),
  variable({ key: 'storageRollup1mRetentionDays', env: 'STORAGE_ROLLUP_1M_RETENTION_DAYS', defaultText: '730', defaultValue: 730, parse: integer(0, 36500), description: '1-minute rollups older than this (days) are dropped; 0 keeps them; at least the raw retention.' }),
  variable({ key: 'storageRollup1hRetentionDays', env: 'STORAGE_ROLLUP_1H_RETENTION_DAYS', defaultText: '0', defaultValue: 0, parse: integer(0, 36500), description: '1-hour rollups older than this (days) are dropped; 0 (the default) keeps them forever.' }),
  variable({ key: 'storageCompressAfterDays', env: 'STORAGE_COMPRESS_AFTER_DAYS', defaultText: '7', defaultValue: 7, parse: integer(0, 36500), description: 'Raw chunks older than this (days) are compressed, TimescaleDB only; 0 never compresses.' }),
  variable({ key: 'storageMaintenanceIntervalMs', env: 'STORAGE_MAINTENANCE_INTERVAL_MS', defaultText: '60000', defaultValue: 60000, parse: integer(1000, 86_400_000), description: 'How often rollups are refreshed and storage maintenance runs (ms), in the worker role.' }),
  variable({ key: 'opcuaConfigFile', env: 'OPCUA_CONFIG_FILE', defaultText: 'unset: the opcua role connects to no server', defaultValue: undefined, parse: nonEmpty, description: 'YAML or JSON mapping of OPC UA servers and nodes to devices and metrics (docs/opcua.md); checked at start.' }),
  variable({ key: 'opcuaPkiDir', env: 'OPCUA_PKI_DIR', defaultText: 'unset: DATA_DIR/opcua-pki', defaultValue: undefined, parse: nonEmpty, description: "The OPC UA gateway's own certificate and the server certificates it trusts; created on first start." }),
  variable({ key: 'opcuaBacklogMaxValues', env: 'OPCUA_BACKLOG_MAX_VALUES', defaultText: '10000', defaultValue: 10000, parse: integer(10, 10_000_000), description: 'OPC UA values held per server while Redis is unreachable; beyond, the oldest are dropped and counted.' }),
  variable({ key: 'offlineCheckIntervalMs', env: 'DEVICE_OFFLINE_CHECK_INTERVAL_MS', defaultText: '30000', defaultValue: 30000, parse: integer(1000, 3_600_000), description: 'How often the worker role looks for silent devices and opens or clears their offline alerts (ms).' }),
  variable({ key: 'deviceExpectedIntervalS', env: 'DEVICE_EXPECTED_INTERVAL_S', defaultText: '300', defaultValue: 300, parse: integer(1, 86_400), description: 'How often a device is expected to report (s), for devices without their own interval.' }),
  variable({ key: 'deviceOfflineFactor', env: 'DEVICE_OFFLINE_FACTOR', defaultText: '3', defaultValue: 3, parse: integer(1, 100), description: 'A device is offline after its expected interval × this factor without readings (docs/alerts.md).' }),
  variable({ key: 'alertWebhookUrl', env: 'ALERT_WEBHOOK_URL', defaultText: 'unset: no webhook', defaultValue: undefined, parse: url(['http:', 'https:']), description: 'Alert changes are POSTed here as JSON, with retries, by the worker role (docs/alerts.md).' }),
  variable({ key: 'alertWebhookSecret', env: 'ALERT_WEBHOOK_SECRET', defaultText: 'unset', defaultValue: undefined, parse: apiKey, description: 'Key of the x-urbansense-signature HMAC-SHA256 header (at least 16 characters); required with ALERT_WEBHOOK_URL.' }),
  variable({ key: 'alertRulesFile', env: 'ALERT_RULES_FILE', defaultText: 'unset: the default rules only', defaultValue: undefined, parse: nonEmpty, description: 'JSON or YAML list of alert rules added at start when their id is absent (docs/alerts.md); checked at start.' }),
] as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/** Parses and validates the whole environment at once, so every problem is reported together. */
export function parseConfig(env: Environment): Readonly<Config> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const spec of CONFIG_VARIABLES) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      config[spec.key] = spec.defaultValue;
      continue;
    }
    try {
      config[spec.key] = (spec.parse as Parse<unknown>)(raw);
    } catch (error) {
      problems.push(`${spec.env} ${(error as Error).message}`);
    }
  }
  if (problems.length === 0) problems.push(...storageSettingsProblems(storageSettingsOf(config as unknown as Config)));
  // ROLES=all runs an idle opcua role without a mapping; naming the role means wanting it to work.
  if (/(^|,)\s*opcua\s*(,|$)/i.test(env.ROLES ?? '') && config.opcuaConfigFile === undefined) problems.push('ROLES names opcua, which needs OPCUA_CONFIG_FILE (docs/opcua.md)');
  if (config.alertWebhookUrl !== undefined && config.alertWebhookSecret === undefined && !problems.some((problem) => problem.startsWith('ALERT_WEBHOOK_SECRET'))) problems.push('ALERT_WEBHOOK_URL needs ALERT_WEBHOOK_SECRET, the key receivers check signatures with');
  // Unset, API_TLS follows TLS_CERT_FILE: giving a certificate means wanting the API encrypted too.
  if ((env.API_TLS ?? '') === '') config.apiTls = config.tlsCertFile !== undefined;
  problems.push(...tlsProblems(env, config as unknown as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config as unknown as Config);
}

/**
 * TLS variables that only make sense together. Whether the files exist and match is
 * checked when they are read (config/tls-files.ts).
 */
function tlsProblems(env: Environment, config: Readonly<Config>): string[] {
  const set = (name: string) => (env[name] ?? '') !== '';
  const problems: string[] = [];
  if (set('TLS_CERT_FILE') !== set('TLS_KEY_FILE')) problems.push(set('TLS_CERT_FILE') ? 'TLS_CERT_FILE needs TLS_KEY_FILE, its private key' : 'TLS_KEY_FILE needs TLS_CERT_FILE, the certificate it belongs to');
  if (config.tlsCertFile === undefined) {
    if (set('API_TLS') && config.apiTls) problems.push('API_TLS=on needs TLS_CERT_FILE and TLS_KEY_FILE');
    if (set('MQTT_TLS_CLIENT_CA_FILE')) problems.push('MQTT_TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates are checked on the TLS listeners');
  }
  const tlsListener = config.tlsCertFile !== undefined && (config.mqttTlsPort !== 0 || config.mqttWssPort !== 0);
  if (config.roles?.includes('broker') && env.MQTT_PORT?.trim().toLowerCase() === 'off' && config.mqttWsPort === 0 && !tlsListener) {
    problems.push('MQTT_PORT=off leaves the broker no listener: set MQTT_WS_PORT, or TLS_CERT_FILE with MQTT_TLS_PORT or MQTT_WSS_PORT');
  }
  return problems;
}

/** The storage settings part of the configuration, as storage/ takes it. */
export function storageSettingsOf(config: Readonly<Config>): StorageSettings {
  return {
    chunkIntervalHours: config.storageChunkIntervalHours,
    rawRetentionDays: config.storageRawRetentionDays,
    rollup1mRetentionDays: config.storageRollup1mRetentionDays,
    rollup1hRetentionDays: config.storageRollup1hRetentionDays,
    compressAfterDays: config.storageCompressAfterDays,
    maintenanceIntervalMs: config.storageMaintenanceIntervalMs,
  };
}
