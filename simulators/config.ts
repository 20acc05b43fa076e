/**
 * Configuration of the simulator CLI, read from the environment once at start-up.
 * Every problem is reported at once, each naming its variable, so one run shows all fixes.
 */

import { MAX_DEVICES_PER_DOMAIN, validateIdPrefix } from './fleet-plan.js';

export interface SimulatorConfig {
  /** `API_URL`: where devices are registered. */
  apiUrl: string;
  /** `MQTT_URL`: the broker devices publish to. */
  mqttUrl: string;
  /** `API_KEY`: admin API key (required). */
  adminKey: string;
  /** `SIM_DEVICES`: devices, spread over the four domains. */
  devices: number;
  /** `SIM_INTERVAL_MS`: mean time between two readings of one device. */
  intervalMs: number;
  /** `SIM_ID_PREFIX`: device ids are `{prefix}-env-0001` … */
  idPrefix: string;
  /** `SIM_SEED`: integer, or any text. */
  seed: number | string;
  /** `SIM_QOS`: MQTT QoS of telemetry. */
  qos: 0 | 1 | 2;
  /** `SIM_CREDENTIALS_FILE`: where registered devices' secrets are kept for the next run. */
  credentialsFile: string;
  /**
   * `SIM_*` variables the simulator does not know: likely typos, whose value is silently
   * unused. Warned about rather than refused, since a wrapper may set its own `SIM_*`.
   */
  unknownVariables: readonly string[];
}

export const SIMULATOR_DEFAULTS = Object.freeze({
  apiUrl: 'http://127.0.0.1:3000',
  mqttUrl: 'mqtt://127.0.0.1:1883',
  devices: 20,
  intervalMs: 1000,
  idPrefix: 'sim',
  seed: 1,
  qos: 1,
  credentialsFile: 'data/simulator-credentials.json',
} as const);

export const KNOWN_SIM_VARIABLES = ['SIM_DEVICES', 'SIM_INTERVAL_MS', 'SIM_ID_PREFIX', 'SIM_SEED', 'SIM_QOS', 'SIM_CREDENTIALS_FILE'];

/** Below this a fleet floods a development stack rather than simulating sensors. */
const MIN_INTERVAL_MS = 10;

type Env = Readonly<Record<string, string | undefined>>;

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses and validates the simulator's environment.
 * @throws Error listing every invalid or missing variable by name.
 */
export function parseSimulatorConfig(env: Env): Readonly<SimulatorConfig> {
  const problems: string[] = [];

  const url = (name: string, fallback: string, protocols: readonly string[], example: string): string => {
    const raw = present(env, name) ?? fallback;
    try {
      const parsed = new URL(raw);
      if (protocols.includes(parsed.protocol)) return raw;
      problems.push(`${name}: "${raw}" must use ${protocols.join(' or ')}, e.g. ${example}`);
    } catch {
      problems.push(`${name}: "${raw}" is not a URL, expected e.g. ${example}`);
    }
    return fallback;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = present(env, name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (/^\d+$/.test(raw) && value >= min && value <= max) return value;
    problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  };

  const apiUrl = url('API_URL', SIMULATOR_DEFAULTS.apiUrl, ['http:', 'https:'], SIMULATOR_DEFAULTS.apiUrl);
  const mqttUrl = url('MQTT_URL', SIMULATOR_DEFAULTS.mqttUrl, ['mqtt:', 'mqtts:', 'ws:', 'wss:'], SIMULATOR_DEFAULTS.mqttUrl);
  const adminKey = present(env, 'API_KEY') ?? '';
  if (adminKey === '') problems.push('API_KEY: required; set it to an admin API key, which registers the simulated devices');
  const devices = integer('SIM_DEVICES', SIMULATOR_DEFAULTS.devices, 1, 4 * MAX_DEVICES_PER_DOMAIN);
  const intervalMs = integer('SIM_INTERVAL_MS', SIMULATOR_DEFAULTS.intervalMs, MIN_INTERVAL_MS, 86_400_000);
  const qos = integer('SIM_QOS', SIMULATOR_DEFAULTS.qos, 0, 2) as 0 | 1 | 2;
  const idPrefix = present(env, 'SIM_ID_PREFIX') ?? SIMULATOR_DEFAULTS.idPrefix;
  try {
    validateIdPrefix(idPrefix);
  } catch (error) {
    problems.push(`SIM_ID_PREFIX: ${(error as Error).message}`);
  }
  const rawSeed = present(env, 'SIM_SEED');
  const seed = rawSeed === undefined ? SIMULATOR_DEFAULTS.seed : /^-?\d+$/.test(rawSeed) ? Number(rawSeed) : rawSeed;
  const credentialsFile = present(env, 'SIM_CREDENTIALS_FILE') ?? SIMULATOR_DEFAULTS.credentialsFile;

  const unknownVariables = Object.freeze(
    Object.keys(env).filter((name) => name.startsWith('SIM_') && !KNOWN_SIM_VARIABLES.includes(name)).sort(),
  );

  if (problems.length > 0) throw new Error(`invalid simulator configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze({ apiUrl, mqttUrl, adminKey, devices, intervalMs, idPrefix, seed, qos, credentialsFile, unknownVariables });
}
