/**
 * The device types the simulators can play, by domain. A fleet gives the devices of a
 * domain these types in turn, so a fleet of any size shows each type it can.
 */

import { DOMAINS, type Domain } from '../../contracts/metric-catalogue.js';
import type { DeviceModel, DeviceModelOptions } from './device-model.js';
import { createAirQualityStation } from './environment.js';
import { createFeederMeter, createTransformerMeter } from './grid.js';
import { createBridgeMonitor, createGasMonitor, createManholeMonitor } from './safety.js';
import { createHydrologyStation, createSupplyMonitor } from './water.js';

export type { DeviceModel, DeviceModelOptions, Metrics } from './device-model.js';

export interface DeviceKindDefinition {
  domain: Domain;
  /** Human label used when registering a device (`Air-quality station`). */
  label: string;
  create(options: DeviceModelOptions): DeviceModel;
}

export const DEVICE_KINDS = {
  'air-quality-station': { domain: 'environment', label: 'Air-quality station', create: createAirQualityStation },
  'supply-monitor': { domain: 'water', label: 'Water-supply monitoring point', create: createSupplyMonitor },
  'hydrology-station': { domain: 'water', label: 'River hydrology station', create: createHydrologyStation },
  'feeder-10kv': { domain: 'grid', label: '10 kV feeder meter', create: createFeederMeter },
  'transformer-lv': { domain: 'grid', label: 'Distribution transformer LV meter', create: createTransformerMeter },
  'gas-monitor': { domain: 'safety', label: 'Combustible-gas monitor', create: createGasMonitor },
  'manhole-monitor': { domain: 'safety', label: 'Manhole monitor', create: createManholeMonitor },
  'bridge-monitor': { domain: 'safety', label: 'Bridge structural monitor', create: createBridgeMonitor },
} as const satisfies Record<string, DeviceKindDefinition>;

export type DeviceKind = keyof typeof DEVICE_KINDS;

export const DEVICE_KIND_NAMES = Object.keys(DEVICE_KINDS) as DeviceKind[];

export function isDeviceKind(value: string): value is DeviceKind {
  return Object.hasOwn(DEVICE_KINDS, value);
}

/** The device types of a domain, in the order a fleet assigns them. */
export function kindsOfDomain(domain: Domain): DeviceKind[] {
  return DEVICE_KIND_NAMES.filter((kind) => DEVICE_KINDS[kind].domain === domain);
}

/** The type the `index`-th device (from 0) of a domain plays in a fleet. */
export function kindForDomainIndex(domain: Domain, index: number): DeviceKind {
  const kinds = kindsOfDomain(domain);
  const kind = kinds[index % kinds.length];
  if (kind === undefined) throw new Error(`no simulated device type for domain "${domain}"`);
  return kind;
}

export function createDeviceModel(kind: DeviceKind, options: DeviceModelOptions): DeviceModel {
  return DEVICE_KINDS[kind].create(options);
}

// Fails at load time, not in the middle of a fleet run, if a domain loses its last model.
for (const domain of DOMAINS) kindForDomainIndex(domain, 0);
