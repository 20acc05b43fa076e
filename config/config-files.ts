import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { extendCatalogue } from '../contracts/catalogue-extension.js';
import { parseDeviceProfiles, type DeviceProfile } from '../contracts/device-profile.js';
import { BUILTIN_CATALOGUE, type MetricCatalogue } from '../contracts/metric-catalogue.js';
import { ConfigError, type Config } from './config-schema.js';

/**
 * The configuration files the environment points at (METRIC_CATALOGUE_FILE,
 * DEVICE_PROFILES_FILE), read and checked once at start: a mistake stops the process
 * with every problem listed, each naming the variable, the file and the entry.
 */
export interface CatalogueConfiguration {
  catalogue: MetricCatalogue;
  profiles: ReadonlyMap<string, DeviceProfile>;
}

async function readDocument(variable: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${variable} ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  try {
    // JSON is YAML, but JSON.parse gives the clearer message for a .json file.
    return path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError([`${variable} ${file}: not valid ${path.extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`]);
  }
}

function checked<T>(variable: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const problems = (error as { problems?: readonly string[] }).problems;
    if (problems === undefined) throw error;
    throw new ConfigError(problems.map((problem) => `${variable} ${problem}`));
  }
}

export async function loadCatalogueConfiguration(config: Pick<Config, 'metricCatalogueFile' | 'deviceProfilesFile'>): Promise<CatalogueConfiguration> {
  let catalogue = BUILTIN_CATALOGUE;
  if (config.metricCatalogueFile !== undefined) {
    const file = config.metricCatalogueFile;
    const document = await readDocument('METRIC_CATALOGUE_FILE', file);
    catalogue = checked('METRIC_CATALOGUE_FILE', () => extendCatalogue(document, file));
  }
  let profiles: ReadonlyMap<string, DeviceProfile> = new Map();
  if (config.deviceProfilesFile !== undefined) {
    const file = config.deviceProfilesFile;
    const document = await readDocument('DEVICE_PROFILES_FILE', file);
    profiles = checked('DEVICE_PROFILES_FILE', () => parseDeviceProfiles(document, catalogue, file));
  }
  return { catalogue, profiles };
}
