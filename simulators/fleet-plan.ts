/**
 * Which devices a fleet has: their ids, domains, device types and names, derived from a
 * count (spread over the four domains) or from explicit per-domain counts. Pure, so the
 * same options always give the same ids, and a re-run finds its registered devices again.
 */

import { DOMAINS, type Domain } from '../contracts/metric-catalogue.js';
import { DEVICE_ID_PATTERN, telemetryTopic } from '../contracts/topics.js';
import { DEVICE_KINDS, kindForDomainIndex, type DeviceKind } from './models/index.js';

/** How many devices, in total (spread round-robin over the domains) or per domain. */
export type FleetSize = number | Readonly<Partial<Record<Domain, number>>>;

export interface PlannedDevice {
  /** Device id, also the MQTT username and client id, e.g. `sim-env-0001`. */
  id: string;
  domain: Domain;
  kind: DeviceKind;
  /** Human name given at registration, e.g. `Air-quality station sim-env-0001`. */
  name: string;
  /** The topic it publishes telemetry to. */
  topic: string;
}

/** Short domain labels keep ids readable and well inside the 64-character id limit. */
export const DOMAIN_ID_LABELS: Readonly<Record<Domain, string>> = {
  environment: 'env',
  water: 'water',
  grid: 'grid',
  safety: 'safety',
};

/** Devices per domain beyond this need wider numbering than `0001` and are not worth simulating. */
export const MAX_DEVICES_PER_DOMAIN = 9999;

function countsPerDomain(size: FleetSize): Record<Domain, number> {
  const counts: Record<Domain, number> = { environment: 0, water: 0, grid: 0, safety: 0 };
  if (typeof size === 'number') {
    if (!Number.isInteger(size) || size < 0) throw new Error(`devices must be a whole number ≥ 0, got ${size}`);
    // Round-robin, so 1 device is an air-quality station and 6 are 2+2+1+1.
    for (let i = 0; i < size; i += 1) counts[DOMAINS[i % DOMAINS.length] as Domain] += 1;
  } else {
    for (const [domain, count] of Object.entries(size)) {
      if (!(DOMAINS as readonly string[]).includes(domain)) {
        throw new Error(`devices: unknown domain "${domain}"; the domains are ${DOMAINS.join(', ')}`);
      }
      if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
        throw new Error(`devices.${domain} must be a whole number ≥ 0, got ${count}`);
      }
      counts[domain as Domain] = count ?? 0;
    }
  }
  for (const domain of DOMAINS) {
    if (counts[domain] > MAX_DEVICES_PER_DOMAIN) {
      throw new Error(`devices: ${counts[domain]} ${domain} devices asked for; at most ${MAX_DEVICES_PER_DOMAIN} per domain`);
    }
  }
  return counts;
}

/** Throws when ids built from `idPrefix` would not be valid device ids. */
export function validateIdPrefix(idPrefix: string): void {
  const longest = `${idPrefix}-${DOMAIN_ID_LABELS.safety}-0000`;
  if (!DEVICE_ID_PATTERN.test(longest)) {
    throw new Error(
      `idPrefix "${idPrefix}" gives device ids like "${longest}", which are not valid: ids start with a letter or ` +
        `digit, use only letters, digits, ".", "_" and "-", and are at most 64 characters`,
    );
  }
}

export function planFleet(size: FleetSize, idPrefix: string): PlannedDevice[] {
  validateIdPrefix(idPrefix);
  const counts = countsPerDomain(size);
  const devices: PlannedDevice[] = [];
  for (const domain of DOMAINS) {
    for (let index = 0; index < counts[domain]; index += 1) {
      const id = `${idPrefix}-${DOMAIN_ID_LABELS[domain]}-${String(index + 1).padStart(4, '0')}`;
      const kind = kindForDomainIndex(domain, index);
      devices.push({ id, domain, kind, name: `${DEVICE_KINDS[kind].label} ${id}`, topic: telemetryTopic(id) });
    }
  }
  return devices;
}
