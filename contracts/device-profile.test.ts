import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DeviceProfileError, parseDeviceProfiles } from './device-profile.js';
import { BUILTIN_CATALOGUE } from './metric-catalogue.js';

const FILE = 'profiles.yaml';

function problemsOf(document: unknown): readonly string[] {
  try {
    parseDeviceProfiles(document, BUILTIN_CATALOGUE, FILE);
  } catch (error) {
    if (error instanceof DeviceProfileError) return error.problems;
    throw error;
  }
  return [];
}

describe('vendor device profiles', () => {
  it('reads a profile: records, timestamp, fields mapped to catalogue keys with units', () => {
    const profiles = parseDeviceProfiles(parse(`
profiles:
  acme-aq-v2:
    description: ACME air sensor, firmware 2.x
    records: data.samples
    timestamp: { field: time, format: local, utcOffset: "+08:00" }
    fields:
      PM25: { metric: PM2.5, unit: mg/m3 }
      env.tempF: { metric: temp, unit: "°F" }
      rssi: ignore
    unmapped: ignore
`), BUILTIN_CATALOGUE, FILE);
    const profile = profiles.get('acme-aq-v2');
    expect(profile).toMatchObject({
      records: ['data', 'samples'],
      timestamp: { path: ['time'], format: 'local', utcOffsetMinutes: 480 },
      unmapped: 'ignore',
    });
    expect([...profile!.fields]).toEqual([
      ['PM25', { metric: 'pm2_5', unit: 'mg/m3' }], ['env.tempF', { metric: 'temperature', unit: '°F' }], ['rssi', 'ignore'],
    ]);
  });

  it('reports every problem, naming the file and the entry', () => {
    expect(problemsOf({
      profiles: {
        'bad name!': { fields: { a: { metric: 'pm10' } } },
        good: {
          timestamp: { field: 'ts', format: 'local' },
          fields: { pm: { metric: 'pm2_5', unit: 'ppm' }, x: { metric: 'unobtainium' }, y: 'keep', 'a b': 'ignore' },
          unmapped: 'drop',
        },
        empty: { fields: {} },
      },
    })).toEqual([
      `${FILE}: profiles.bad name!: a profile name is letters, digits, ".", "_" and "-", at most 64`,
      `${FILE}: profiles.good.timestamp: format "local" needs "utcOffset", e.g. "+08:00"`,
      `${FILE}: profiles.good.fields.pm: pm2_5 does not accept unit "ppm" (it accepts ug/m3, mg/m3, ng/m3)`,
      `${FILE}: profiles.good.fields.x: metric "unobtainium" is not in the catalogue`,
      `${FILE}: profiles.good.fields.y: must be { metric, unit } or "ignore"`,
      `${FILE}: profiles.good.fields.a b: a field path is dot-separated keys without spaces`,
      `${FILE}: profiles.good: "unmapped" must be one of quarantine, ignore`,
      `${FILE}: profiles.empty: "fields" must map vendor field paths to { metric, unit } or "ignore"`,
    ]);
    expect(problemsOf({ devices: [] })).toEqual([`${FILE}: must be an object with "profiles" mapping names to profiles`]);
  });
});
