import { withPostgresClient } from '../../../runtime/postgres-database.js';
import { readingKey, type PlannedReading } from './devices.js';

/** What the database holds of a run's readings, compared with what the devices were told. */
export interface ReadingCheck {
  /** Readings the devices published. */
  n: number;
  /** Readings whose PUBACK the devices received. */
  acknowledged: number;
  /** Distinct published readings in the readings table. */
  stored: number;
  /** Distinct published readings in quarantine (refused with a reason). */
  quarantined: number;
  /** Acknowledged readings not where they belong (good ones stored, out-of-range ones quarantined): must be 0. */
  missing: number;
  /** Rows beyond the first of one reading: must be 0 (the unique key makes it so). */
  duplicates: number;
  /** Quarantine rows beyond the first of one reading: a redelivered refusal is kept again, harmless. */
  quarantineCopies: number;
  /** Stored but never acknowledged (the PUBACK was lost with a crash): allowed, the device resent it. */
  storedUnacknowledged: number;
  /** Up to 10 keys of missing readings, for the failure message. */
  missingSample: string[];
}

/** The catalogue's physical range of temperature (contracts/builtin-metrics.ts). */
function inCatalogueRange(celsius: number): boolean {
  return celsius >= -60 && celsius <= 70;
}

/** Keys of the readings of `deviceIds` stored or quarantined so far. */
export async function readingsInDatabase(databaseUrl: string, deviceIds: readonly string[]): Promise<Set<string>> {
  return withPostgresClient(databaseUrl, async (client) => {
    const stored = await client.query<{ device: string; time: Date }>(
      'SELECT d.id AS device, r.time FROM readings r JOIN devices d ON d.num = r.device_num WHERE d.id = ANY($1::text[])',
      [deviceIds],
    );
    const refused = await client.query<{ device: string; payload: string }>('SELECT device_id AS device, payload FROM quarantine WHERE device_id = ANY($1::text[])', [deviceIds]);
    return new Set([
      ...stored.rows.map((row) => readingKey(row.device, row.time)),
      ...refused.rows.map((row) => readingKey(row.device, (JSON.parse(row.payload) as { ts: string }).ts)),
    ]);
  });
}

/** Reads back every reading of `devices` from the readings and quarantine tables. */
export async function checkReadings(databaseUrl: string, planned: readonly PlannedReading[], acknowledged: ReadonlySet<string>): Promise<ReadingCheck> {
  const deviceIds = [...new Set(planned.map((reading) => reading.deviceId))];
  const { stored, quarantined } = await withPostgresClient(databaseUrl, async (client) => {
    const readings = await client.query<{ device: string; time: Date; copies: string }>(
      `SELECT d.id AS device, r.time, count(*) AS copies
         FROM readings r JOIN devices d ON d.num = r.device_num
        WHERE d.id = ANY($1::text[])
        GROUP BY d.id, r.time`,
      [deviceIds],
    );
    const refused = await client.query<{ device: string; payload: string; reason: string }>(
      `SELECT device_id AS device, payload, reason FROM quarantine WHERE device_id = ANY($1::text[])`,
      [deviceIds],
    );
    return { stored: readings.rows, quarantined: refused.rows };
  });
  const storedCopies = new Map(stored.map((row) => [readingKey(row.device, row.time), Number(row.copies)]));
  const quarantineCopies = new Map<string, number>();
  for (const row of quarantined) {
    const ts = (JSON.parse(row.payload) as { ts: string }).ts;
    const key = readingKey(row.device, ts);
    quarantineCopies.set(key, (quarantineCopies.get(key) ?? 0) + 1);
  }
  const plannedKeys = new Set(planned.map((reading) => readingKey(reading.deviceId, reading.ts)));
  const refusedKeys = new Set(planned.filter((reading) => !inCatalogueRange(reading.value)).map((reading) => readingKey(reading.deviceId, reading.ts)));
  const missing = [...acknowledged].filter((key) => !(refusedKeys.has(key) ? quarantineCopies : storedCopies).has(key));
  const sumExtra = (copies: Map<string, number>) => [...copies.values()].reduce((sum, count) => sum + count - 1, 0);
  return {
    n: planned.length,
    acknowledged: acknowledged.size,
    stored: [...storedCopies.keys()].filter((key) => plannedKeys.has(key)).length,
    quarantined: [...quarantineCopies.keys()].filter((key) => plannedKeys.has(key)).length,
    missing: missing.length,
    duplicates: sumExtra(storedCopies),
    quarantineCopies: sumExtra(quarantineCopies),
    storedUnacknowledged: [...storedCopies.keys()].filter((key) => !acknowledged.has(key)).length,
    missingSample: missing.slice(0, 10),
  };
}

/** One line for the CI log, e.g. `worker SIGKILL mid-batch: N=600, acknowledged=600, stored=588, …`. */
export function formatCheck(fault: string, check: ReadingCheck): string {
  return `${fault}: N=${check.n}, acknowledged=${check.acknowledged}, stored=${check.stored}, missing=${check.missing}, ` +
    `duplicates=${check.duplicates}, quarantined=${check.quarantined} (copies ${check.quarantineCopies}), ` +
    `stored-but-unacknowledged=${check.storedUnacknowledged}`;
}
