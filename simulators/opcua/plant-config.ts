import { PLANT_SECURITY_MODES, type PlantSecurityMode, type PlantServerOptions } from './plant-server.js';

/**
 * The plant simulator's environment (`npm run plant`), checked at start like the
 * stack's: every problem is reported at once, each naming its variable.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | PLANT_PORT | 4840 | OPC UA TCP port |
 * | PLANT_HOST | 127.0.0.1 | address bound and advertised in endpoint URLs |
 * | PLANT_PKI_DIR | ./data/plant-pki | the server's certificate and trusted client certificates |
 * | PLANT_USERS | operator:operator | `user:password` pairs, comma-separated; empty for none |
 * | PLANT_ALLOW_ANONYMOUS | true | anonymous sessions too |
 * | PLANT_SECURITY_MODES | None,Sign,SignAndEncrypt | endpoints offered |
 * | PLANT_ACCEPT_UNKNOWN_CLIENTS | true | trust any client certificate (a simulator convenience; false is what a real plant does) |
 * | PLANT_UPDATE_MS | 1000 | how often values change |
 * | PLANT_PUMPS, PLANT_FEEDERS | 3, 3 | size of the plant |
 * | PLANT_SEED | 1 | fixes the random process |
 */

export class PlantConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid plant simulator configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'PlantConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export function parsePlantConfig(env: Env): PlantServerOptions {
  const problems: string[] = [];
  const text = (name: string, fallback: string) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const raw = text(name, String(fallback));
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(value >= min && value <= max)) problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const flag = (name: string, fallback: boolean) => {
    const raw = text(name, String(fallback)).toLowerCase();
    if (raw !== 'true' && raw !== 'false') problems.push(`${name} must be true or false, got "${raw}"`);
    return raw === 'true';
  };

  const users: Record<string, string> = {};
  const usersText = env.PLANT_USERS ?? 'operator:operator';
  for (const pair of usersText.split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) problems.push(`PLANT_USERS entries are user:password, got "${pair.slice(0, colon > 0 ? colon : pair.length)}…"`);
    else users[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  const modes = text('PLANT_SECURITY_MODES', PLANT_SECURITY_MODES.join(',')).split(',').map((mode) => mode.trim());
  const unknown = modes.filter((mode) => !(PLANT_SECURITY_MODES as readonly string[]).includes(mode));
  if (unknown.length > 0 || modes.length === 0) problems.push(`PLANT_SECURITY_MODES must list ${PLANT_SECURITY_MODES.join(', ')}; got "${unknown.join(', ')}"`);

  const options: PlantServerOptions = {
    port: integer('PLANT_PORT', 4840, 1, 65535),
    host: text('PLANT_HOST', '127.0.0.1'),
    pkiDir: text('PLANT_PKI_DIR', './data/plant-pki'),
    users,
    allowAnonymous: flag('PLANT_ALLOW_ANONYMOUS', true),
    securityModes: modes as PlantSecurityMode[],
    acceptUnknownClientCertificates: flag('PLANT_ACCEPT_UNKNOWN_CLIENTS', true),
    updateIntervalMs: integer('PLANT_UPDATE_MS', 1000, 50, 3_600_000),
    pumps: integer('PLANT_PUMPS', 3, 1, 20),
    feeders: integer('PLANT_FEEDERS', 3, 1, 50),
    seed: /^\d+$/.test(text('PLANT_SEED', '1')) ? Number(text('PLANT_SEED', '1')) : text('PLANT_SEED', '1'),
  };
  if (problems.length > 0) throw new PlantConfigError(problems);
  return options;
}
