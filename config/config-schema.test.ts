import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, parseConfig } from './config-schema.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('reads the storage settings and refuses a rollup kept shorter than the raw readings', () => {
    expect(parseConfig({ STORAGE_RAW_RETENTION_DAYS: '90', STORAGE_COMPRESS_AFTER_DAYS: '0', STORAGE_MAINTENANCE_INTERVAL_MS: '5000' })).toMatchObject({
      storageRawRetentionDays: 90, storageRollup1mRetentionDays: 730, storageRollup1hRetentionDays: 0, storageCompressAfterDays: 0, storageMaintenanceIntervalMs: 5000,
    });
    expect(problemsOf({ STORAGE_RAW_RETENTION_DAYS: '400' })).toEqual([]);
    expect(problemsOf({ STORAGE_RAW_RETENTION_DAYS: '800' })).toEqual([
      'STORAGE_ROLLUP_1M_RETENTION_DAYS must be 0 (keep) or at least STORAGE_RAW_RETENTION_DAYS (800), got 730',
    ]);
    expect(problemsOf({ STORAGE_MAINTENANCE_INTERVAL_MS: '10' })).toEqual(['STORAGE_MAINTENANCE_INTERVAL_MS must be between 1000 and 86400000, got 10']);
  });

  it('needs nothing for a first run', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: './data',
      roles: ['broker', 'opcua', 'worker', 'api'],
      mqttPort: 1883,
      httpPort: 3000,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads and coerces every variable', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      REDIS_URL: 'redis://redis:6379',
      MQTT_PORT: '11883',
      HTTP_PORT: '8080',
      ROLES: 'worker, API',
      LOG_LEVEL: 'DEBUG',
      API_ADMIN_KEY: 'a-long-enough-admin-key',
    });
    expect(config).toMatchObject({ mqttPort: 11883, httpPort: 8080, roles: ['worker', 'api'], logLevel: 'debug', databaseUrl: 'postgres://u:p@db:5432/x' });
  });

  it.each([
    [{ MQTT_PORT: 'abc' }, 'MQTT_PORT must be a whole number, got "abc"'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT must be between 0 and 65535, got 70000'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres: or postgresql:, got "mysql:"'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL must be a URL like redis://host:port/…, got "not a url"'],
    [{ ROLES: 'broker,db' }, 'ROLES unknown role "db"; roles are all, broker, opcua, worker, api'],
    [{ ROLES: 'api, opcua' }, 'ROLES names opcua, which needs OPCUA_CONFIG_FILE (docs/opcua.md)'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ API_ADMIN_KEY: 'short' }, 'API_ADMIN_KEY must be at least 16 characters long'],
    [{ MQTT_MAX_PACKET_BYTES: '10' }, 'MQTT_MAX_PACKET_BYTES must be between 1024 and 16777216, got 10'],
  ])('stops on %o with a message naming the variable', (env, message) => {
    expect(problemsOf(env)).toEqual([message]);
  });

  it('reports every bad variable at once, and never echoes a password', () => {
    const problems = problemsOf({ MQTT_PORT: '-1', DATABASE_URL: 'redis://user:hunter2@host/db' });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('documents every variable with a default and a description', () => {
    for (const variable of CONFIG_VARIABLES) {
      expect(variable.env).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(variable.description.length).toBeGreaterThan(10);
      expect(variable.defaultText.length).toBeGreaterThan(0);
    }
  });
});
