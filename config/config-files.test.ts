import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogueConfiguration } from './config-files.js';
import { ConfigError } from './config-schema.js';

describe('METRIC_CATALOGUE_FILE and DEVICE_PROFILES_FILE at start', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'urbansense-config-'));
    await writeFile(file('metrics.yaml'), 'metrics:\n  - { key: hydrant_open, name: Hydrant opened, domain: safety, unit: "1", kind: state, min: 0, max: 1, aliases: [XHS] }\n');
    await writeFile(file('profiles.json'), JSON.stringify({ profiles: { hydrant: { fields: { open: { metric: 'xhs' } } } } }));
    await writeFile(file('bad.yaml'), 'metrics: [\n');
    await writeFile(file('wrong.yaml'), 'extend:\n  pm2_5: { aliases: [PM10] }\n');
    await writeFile(file('bad-profiles.json'), JSON.stringify({ profiles: { p: { fields: { pm: { metric: 'pm2_5', unit: 'ppm' } } } } }));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function problems(config: { metricCatalogueFile?: string; deviceProfilesFile?: string }): Promise<readonly string[]> {
    try {
      await loadCatalogueConfiguration({ metricCatalogueFile: config.metricCatalogueFile, deviceProfilesFile: config.deviceProfilesFile });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it('uses the built-in catalogue and no profiles when neither is set', async () => {
    const { catalogue, profiles } = await loadCatalogueConfiguration({ metricCatalogueFile: undefined, deviceProfilesFile: undefined });
    expect(catalogue.metrics.has('pm2_5')).toBe(true);
    expect(profiles.size).toBe(0);
  });

  it('merges the catalogue file and checks the profiles against the merged catalogue', async () => {
    const { catalogue, profiles } = await loadCatalogueConfiguration({ metricCatalogueFile: file('metrics.yaml'), deviceProfilesFile: file('profiles.json') });
    expect(catalogue.find('xhs')?.key).toBe('hydrant_open');
    expect(profiles.get('hydrant')?.fields.get('open')).toEqual({ metric: 'hydrant_open', unit: undefined });
  });

  it('stops with the variable, the file and what is wrong', async () => {
    expect(await problems({ metricCatalogueFile: file('missing.yaml') })).toEqual([`METRIC_CATALOGUE_FILE ${file('missing.yaml')}: cannot be read (ENOENT)`]);
    expect((await problems({ metricCatalogueFile: file('bad.yaml') }))[0]).toMatch(new RegExp(`^METRIC_CATALOGUE_FILE ${file('bad.yaml')}: not valid YAML: `));
    expect(await problems({ metricCatalogueFile: file('wrong.yaml') })).toEqual([`METRIC_CATALOGUE_FILE ${file('wrong.yaml')}: metric pm2_5: name "PM10" is also pm10`]);
    expect(await problems({ deviceProfilesFile: file('bad-profiles.json') })).toEqual([
      `DEVICE_PROFILES_FILE ${file('bad-profiles.json')}: profiles.p.fields.pm: pm2_5 does not accept unit "ppm" (it accepts ug/m3, mg/m3, ng/m3)`,
    ]);
    // The profiles file is read against the built-in catalogue when no catalogue file extends it.
    expect(await problems({ deviceProfilesFile: file('profiles.json') })).toEqual([
      `DEVICE_PROFILES_FILE ${file('profiles.json')}: profiles.hydrant.fields.open: metric "xhs" is not in the catalogue`,
    ]);
  });
});
