/**
 * DEVICE_PROFILES_FILE: how a vendor's own JSON maps onto the catalogue, for devices
 * whose firmware cannot speak the native format. A device is given a profile at
 * registration; its `sensors/{id}/telemetry` messages are then decoded with it.
 *
 *   profiles:
 *     acme-aq-v2:
 *       records: data.samples            # optional: path to an array, one instant each
 *       timestamp: { field: time, format: local, utcOffset: "+08:00" }
 *       fields:
 *         PM25: { metric: pm2_5, unit: mg/m3 }
 *         env.tempF: { metric: temperature, unit: "[degF]" }
 *         rssi: ignore
 *       unmapped: quarantine              # or ignore; default quarantine
 */
import { DocumentProblems, isFields, oneOf, onlyKeys, readNumber, readString, type Fields } from './document-fields.js';
import type { MetricCatalogue } from './metric-catalogue.js';

export const TIMESTAMP_FORMATS = ['auto', 'iso8601', 'epoch_s', 'epoch_ms', 'local'] as const;
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UTC_OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const PATH = /^[^.\s][^\s]{0,199}$/;

export interface FieldMapping {
  /** Canonical catalogue key. */
  metric: string;
  /** Unit the vendor sends; the canonical unit when absent. */
  unit: string | undefined;
}

export interface DeviceProfile {
  name: string;
  description: string | undefined;
  /** Path (dot-separated keys) to an array of records; `undefined`: the payload itself. */
  records: readonly string[] | undefined;
  timestamp: { path: readonly string[]; format: TimestampFormat; utcOffsetMinutes: number | undefined } | undefined;
  /** By dotted path within a record; `ignore` marks fields known to carry no reading. */
  fields: ReadonlyMap<string, FieldMapping | 'ignore'>;
  unmapped: 'quarantine' | 'ignore';
  /** Issue 7: how often devices of this profile report, in seconds, unless the device says otherwise. */
  expectedIntervalS?: number;
}

export class DeviceProfileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid device profiles:\n  ${problems.join('\n  ')}`);
    this.name = 'DeviceProfileError';
  }
}

function readPath(fields: Fields, key: string, where: string, problems: DocumentProblems, optional: boolean): string[] | undefined {
  const text = readString(fields, key, where, problems, { optional, pattern: PATH, patternText: 'must be a dot-separated path without spaces' });
  return text?.split('.');
}

function readProfile(name: string, entry: unknown, catalogue: MetricCatalogue, problems: DocumentProblems): DeviceProfile | undefined {
  const at = `profiles.${name}`;
  if (!PROFILE_NAME_PATTERN.test(name)) problems.add(at, 'a profile name is letters, digits, ".", "_" and "-", at most 64');
  if (!isFields(entry)) {
    problems.add(at, 'must be an object with "fields"');
    return undefined;
  }
  onlyKeys(entry, ['description', 'records', 'timestamp', 'fields', 'unmapped', 'expectedIntervalS'], at, problems);
  const expectedIntervalS = entry.expectedIntervalS === undefined ? undefined : readNumber(entry, 'expectedIntervalS', at, problems);
  if (expectedIntervalS !== undefined && !(Number.isInteger(expectedIntervalS) && expectedIntervalS >= 1 && expectedIntervalS <= 31_536_000)) {
    problems.add(at, '"expectedIntervalS" must be a whole number of seconds from 1 to 31536000');
  }
  const description = readString(entry, 'description', at, problems, { optional: true, maxLength: 500 });
  const records = readPath(entry, 'records', at, problems, true);
  let timestamp: DeviceProfile['timestamp'];
  if (entry.timestamp !== undefined) {
    const where = `${at}.timestamp`;
    if (!isFields(entry.timestamp)) problems.add(where, 'must be { field, format, utcOffset }');
    else {
      onlyKeys(entry.timestamp, ['field', 'format', 'utcOffset'], where, problems);
      const path = readPath(entry.timestamp, 'field', where, problems, false);
      const format = oneOf(entry.timestamp.format ?? 'auto', TIMESTAMP_FORMATS, 'format', where, problems);
      const offset = readString(entry.timestamp, 'utcOffset', where, problems, { optional: true, pattern: UTC_OFFSET, patternText: 'must look like +08:00' });
      const match = offset === undefined ? null : UTC_OFFSET.exec(offset);
      const utcOffsetMinutes = match === null ? undefined : (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
      if (format === 'local' && utcOffsetMinutes === undefined) problems.add(where, 'format "local" needs "utcOffset", e.g. "+08:00"');
      if (path !== undefined && format !== undefined) timestamp = { path, format, utcOffsetMinutes };
    }
  }
  const fields = new Map<string, FieldMapping | 'ignore'>();
  if (!isFields(entry.fields) || Object.keys(entry.fields).length === 0) problems.add(at, '"fields" must map vendor field paths to { metric, unit } or "ignore"');
  else {
    for (const [path, mapping] of Object.entries(entry.fields)) {
      const where = `${at}.fields.${path}`;
      if (!PATH.test(path)) problems.add(where, 'a field path is dot-separated keys without spaces');
      if (mapping === 'ignore') {
        fields.set(path, 'ignore');
        continue;
      }
      if (!isFields(mapping)) {
        problems.add(where, 'must be { metric, unit } or "ignore"');
        continue;
      }
      onlyKeys(mapping, ['metric', 'unit'], where, problems);
      const metricName = readString(mapping, 'metric', where, problems);
      const unit = readString(mapping, 'unit', where, problems, { optional: true, maxLength: 32 });
      const definition = metricName === undefined ? undefined : catalogue.find(metricName);
      if (metricName !== undefined && definition === undefined) problems.add(where, `metric "${metricName}" is not in the catalogue`);
      if (definition !== undefined && unit !== undefined && catalogue.conversion(definition, unit) === undefined) {
        problems.add(where, `${definition.key} does not accept unit "${unit}" (it accepts ${[definition.unit, ...definition.units.map((u) => u.unit)].join(', ')})`);
      }
      if (definition !== undefined) fields.set(path, { metric: definition.key, unit });
    }
  }
  const unmapped = oneOf(entry.unmapped ?? 'quarantine', ['quarantine', 'ignore'] as const, 'unmapped', at, problems) ?? 'quarantine';
  return { name, description, records, timestamp, fields, unmapped, ...(expectedIntervalS === undefined ? {} : { expectedIntervalS }) };
}

/** Validates a profiles document against the catalogue; every problem names `source` and the entry. */
export function parseDeviceProfiles(document: unknown, catalogue: MetricCatalogue, source: string): ReadonlyMap<string, DeviceProfile> {
  const problems = new DocumentProblems();
  const profiles = new Map<string, DeviceProfile>();
  if (!isFields(document) || !isFields(document.profiles)) {
    throw new DeviceProfileError([`${source}: must be an object with "profiles" mapping names to profiles`]);
  }
  onlyKeys(document, ['profiles'], '(top level)', problems);
  for (const [name, entry] of Object.entries(document.profiles)) {
    const profile = readProfile(name, entry, catalogue, problems);
    if (profile !== undefined) profiles.set(name, profile);
  }
  if (problems.list.length > 0) throw new DeviceProfileError(problems.list.map((problem) => `${source}: ${problem}`));
  return profiles;
}
