import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { productionNodeFlags } from '../bench/support/production-flags.js';
import { CONFIG_VARIABLES, ROLES, parseConfig, type Config } from '../config/config-schema.js';

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked the way
 * a user would meet them: the environment each container gets, parsed by the stack's own
 * config schema, the ports it listens on, and the file the image starts.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a user must export for `${VAR:?message}`; a required variable missing here fails the test. */
const REQUIRED_SAMPLES: Readonly<Record<string, string>> = { API_ADMIN_KEY: 'compose-test-admin-key-0123456789' };

type PortSpec = string | number | { target: string | number };
interface ComposeService {
  image?: string;
  build?: string | { context?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  env_file?: unknown;
  ports?: PortSpec[];
  depends_on?: string[] | Record<string, { condition?: string }>;
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** Compose interpolation for a user whose shell sets only the required variables. */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_]\w*)/g,
    (match, braced: string | undefined, operator: string | undefined, argument: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = (braced ?? bare)!;
      if (operator?.endsWith('-')) return argument!;
      if (operator?.endsWith('?')) {
        const sample = REQUIRED_SAMPLES[name];
        if (sample === undefined) throw new Error(`${name} is required ("${argument}"); add a valid sample to REQUIRED_SAMPLES`);
        return sample;
      }
      return ''; // Compose substitutes an unset variable with "" (and warns).
    },
  );
}

/** The container's environment; `KEY` without a value passes the (unset) host variable through. */
function environmentOf(service: ComposeService): Record<string, string | undefined> {
  const entries: Array<[string, unknown]> = Array.isArray(service.environment)
    ? service.environment.map((line) => (line.includes('=') ? [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] : [line, null]))
    : Object.entries(service.environment ?? {});
  return Object.fromEntries(entries.map(([key, value]) => [key, value === null ? undefined : interpolate(String(value))]));
}

/** Services built from this repository: the urban-sensing stack itself. */
const stack = Object.entries(services).filter(([, service]) => {
  const context = typeof service.build === 'string' ? service.build : service.build?.context;
  return context !== undefined && path.resolve(ROOT, context) === path.resolve(ROOT);
});

function configOf(name: string, service: ComposeService): Readonly<Config> {
  try {
    return parseConfig(environmentOf(service));
  } catch (error) {
    throw new Error(`service ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/** Container-side ports of short ("[ip:][host:]container[/proto]") and long (`target`) syntax. */
function containerPorts(service: ComposeService): number[] {
  return (service.ports ?? []).flatMap((spec) => {
    const target = String(typeof spec === 'object' ? spec.target : spec).split('/')[0]!.split(':').at(-1)!;
    const [first, last = first] = target.split('-').map(Number) as [number, number?];
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  });
}

function commandTokens(service: ComposeService): string[] {
  return typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);
}

describe('docker-compose.yml', () => {
  it('runs the stack from this repository', () => {
    expect(stack.map(([name]) => name)).toEqual(expect.arrayContaining(['broker', 'worker', 'api']));
  });

  it('sets only variables that config/config-schema.ts declares on stack services', () => {
    const declared = new Set<string>(CONFIG_VARIABLES.map((variable) => variable.env));
    const unknown = stack.flatMap(([name, service]) =>
      Object.keys(environmentOf(service)).filter((key) => !declared.has(key)).map((key) => `${name}: ${key}`),
    );
    // An env_file's variables would escape this check.
    const envFiles = stack.filter(([, service]) => service.env_file !== undefined).map(([name]) => `${name}: env_file`);
    expect([...unknown, ...envFiles], 'not declared in CONFIG_VARIABLES').toEqual([]);
  });

  it('gives every stack service an environment the stack accepts at start', () => {
    const problems = stack.flatMap(([name, service]) => {
      try {
        configOf(name, service);
        return [];
      } catch (error) {
        return [(error as Error).message];
      }
    });
    expect(problems).toEqual([]);
  });

  it('covers every role, each against the shared Redis and database, never embedded ones', () => {
    const configs = stack.map(([name, service]) => [name, configOf(name, service)] as const);
    expect([...new Set(configs.flatMap(([, config]) => config.roles))].sort()).toEqual([...ROLES].sort());
    // Unset, a container would start its own redis-server or embedded PGlite.
    const local = configs.flatMap(([name, config]) => [
      ...(config.redisUrl === undefined ? [`${name}: REDIS_URL`] : []),
      ...(config.databaseUrl === undefined ? [`${name}: DATABASE_URL`] : []),
    ]);
    expect(local, 'unset').toEqual([]);
  });

  it('publishes exactly the ports each service listens on', () => {
    for (const [name, service] of stack) {
      const config = configOf(name, service);
      const listening = [
        ...(config.roles.includes('broker') ? [config.mqttPort, config.mqttWsPort].filter((port) => port !== undefined && port !== 0) : []),
        // The TLS listeners run only with a certificate (README, "TLS").
        ...(config.roles.includes('broker') && config.tlsCertFile !== undefined ? [config.mqttTlsPort, config.mqttWssPort].filter((port) => port !== 0) : []),
        ...(config.roles.includes('api') ? [config.httpPort] : []),
      ];
      expect(containerPorts(service).sort(), `ports of ${name}`).toEqual(listening.sort());
    }
  });

  it('points the stack at a Redis fit for BullMQ and at TimescaleDB, and waits for both', () => {
    for (const [name, service] of stack) {
      const config = configOf(name, service);
      expect(config.redisUrl && config.databaseUrl, `${name}: REDIS_URL and DATABASE_URL`).toBeTruthy();
      const redisHost = new URL(config.redisUrl!).hostname;
      const redis = commandTokens(services[redisHost] ?? {});
      // AOF keeps acknowledged readings across a restart; eviction would drop queued jobs.
      expect(redis[redis.indexOf('--appendonly') + 1], `${redisHost} --appendonly`).toBe('yes');
      expect(redis[redis.indexOf('--maxmemory-policy') + 1], `${redisHost} --maxmemory-policy`).toBe('noeviction');

      const databaseHost = new URL(config.databaseUrl!).hostname;
      // A pinned timescale/timescaledb tag with its PostgreSQL major, not a floating `latest`.
      expect(services[databaseHost]?.image, `image of ${databaseHost}`).toMatch(/^timescale\/timescaledb:\d[\w.]*-pg\d+$/);

      const dependsOn = service.depends_on ?? [];
      const waitsFor = Array.isArray(dependsOn) ? [] : Object.keys(dependsOn).filter((dep) => dependsOn[dep]?.condition === 'service_healthy');
      expect(waitsFor, `${name} waits for healthy`).toEqual(expect.arrayContaining([redisHost, databaseHost]));
    }
  });

  it('names only existing services in depends_on', () => {
    const missing = Object.entries(services).flatMap(([name, service]) => {
      const dependsOn = service.depends_on ?? [];
      return (Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn)).filter((dep) => !(dep in services)).map((dep) => `${name} → ${dep}`);
    });
    expect(missing).toEqual([]);
  });
});

describe('Dockerfile', () => {
  it('starts the file `npm run build` emits for runtime/main.ts', () => {
    const tsconfigFile = path.join(ROOT, 'tsconfig.build.json');
    const { config, error } = ts.readConfigFile(tsconfigFile, ts.sys.readFile);
    expect(error, 'tsconfig.build.json').toBeUndefined();
    const build = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, tsconfigFile);
    const source = path.join(ROOT, 'runtime/main.ts');
    expect(existsSync(source), source).toBe(true);
    expect(build.fileNames.map((file) => path.resolve(file)), 'compiled by tsconfig.build.json').toContain(source);
    const emitted = path.join(build.options.outDir ?? ROOT, path.relative(build.options.rootDir ?? ROOT, source)).replace(/\.ts$/, '.js');

    // The image's last stage: its working directory and exec-form CMD.
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const lastStage = dockerfile.split(/^(?=FROM\s)/m).at(-1)!;
    const workdir = [...lastStage.matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)?.[1] ?? '/';
    const cmd = JSON.parse(lastStage.match(/^CMD\s+(\[.*\])\s*$/m)?.[1] ?? '[]') as string[];
    expect(cmd[0], 'CMD runs node').toBe('node');
    const script = cmd.slice(1).find((arg) => !arg.startsWith('-'));
    expect(script && path.posix.resolve(workdir, script)).toBe(path.posix.join(workdir, path.relative(ROOT, emitted).split(path.sep).join('/')));
    // The flags benchmarks measure with (`npm start`'s) are the ones the image runs with.
    expect(cmd.slice(1).filter((arg) => arg.startsWith('-'))).toEqual(productionNodeFlags(ROOT));
  });
});
