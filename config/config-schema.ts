/**
 * The stack's configuration: every environment variable it reads, declared once.
 * `parseConfig` runs at start-up; a bad value stops the process with a message naming
 * the variable. The same table renders the README's configuration section and is
 * checked against docker-compose.yml by a test.
 */

export const ROLES = ['broker', 'worker', 'api'] as const;
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
  mqttPort: number;
  /** 0 disables the MQTT-over-WebSocket listener. */
  mqttWsPort: number;
  mqttMaxPacketBytes: number;
  httpPort: number;
  apiAdminKey: string | undefined;
  logLevel: LogLevel;
  queuePrefix: string;
  batchMaxEnvelopes: number;
  batchMaxWaitMs: number;
  workerConcurrency: number;
  apiMaxRangeReadings: number;
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
  variable({ key: 'roles', env: 'ROLES', defaultText: 'all', defaultValue: ROLES, parse: parseRoles, description: 'Comma-separated roles this process runs: broker, worker, api, or all.' }),
  variable({ key: 'listenHost', env: 'LISTEN_HOST', defaultText: '0.0.0.0', defaultValue: '0.0.0.0', parse: nonEmpty, description: 'Address the MQTT and HTTP listeners bind to.' }),
  variable({ key: 'mqttPort', env: 'MQTT_PORT', defaultText: '1883', defaultValue: 1883, parse: port(true), description: 'MQTT over TCP (0 picks a free port).' }),
  variable({ key: 'mqttWsPort', env: 'MQTT_WS_PORT', defaultText: '8083', defaultValue: 8083, parse: port(true), description: 'MQTT over WebSocket, path /mqtt (0 disables it).' }),
  variable({ key: 'mqttMaxPacketBytes', env: 'MQTT_MAX_PACKET_BYTES', defaultText: '65536', defaultValue: 65536, parse: integer(1024, 16 * 1024 * 1024), description: 'Largest MQTT packet accepted; a larger one closes the connection.' }),
  variable({ key: 'httpPort', env: 'HTTP_PORT', defaultText: '3000', defaultValue: 3000, parse: port(true), description: 'HTTP API (0 picks a free port).' }),
  variable({ key: 'apiAdminKey', env: 'API_ADMIN_KEY', defaultText: 'unset: generated at first start, printed once, kept in DATA_DIR/admin-api-key', defaultValue: undefined, parse: apiKey, description: 'Bootstrap admin API key (at least 16 characters).' }),
  variable({ key: 'logLevel', env: 'LOG_LEVEL', defaultText: 'info', defaultValue: 'info', parse: oneOf(LOG_LEVELS), description: `Log level: ${LOG_LEVELS.join(', ')}.` }),
  variable({ key: 'queuePrefix', env: 'QUEUE_PREFIX', defaultText: 'urbansense', defaultValue: 'urbansense', parse: queuePrefix, description: 'Redis key prefix of the queues; stacks sharing a Redis need different ones.' }),
  variable({ key: 'batchMaxEnvelopes', env: 'INGEST_BATCH_MAX_MESSAGES', defaultText: '500', defaultValue: 500, parse: integer(1, 10000), description: 'Messages per queue job: a batch is sent when it has this many…' }),
  variable({ key: 'batchMaxWaitMs', env: 'INGEST_BATCH_MAX_WAIT_MS', defaultText: '10', defaultValue: 10, parse: integer(0, 5000), description: '…or when its first message has waited this long (ms). Devices get PUBACK after the send.' }),
  variable({ key: 'workerConcurrency', env: 'WORKER_CONCURRENCY', defaultText: '4', defaultValue: 4, parse: integer(1, 256), description: 'Queue jobs one worker process handles at once.' }),
  variable({ key: 'apiMaxRangeReadings', env: 'API_MAX_READINGS', defaultText: '10000', defaultValue: 10000, parse: integer(1, 1000000), description: 'Largest page of raw readings one request may ask for.' }),
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
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config as unknown as Config);
}
