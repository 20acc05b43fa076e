import { cpus, totalmem } from 'node:os';
import type { Queryable } from '../storage/database.js';
import type { StoredReading } from '../storage/readings-store.js';
import { mulberry32 } from '../simulators/models/noise.js';

/*
 * Synthetic readings for the storage benchmarks: a fleet of series reporting on a
 * fixed period, in time order as the ingest worker would see them, with a share of
 * redeliveries (QoS 1, job retries) that the store must ignore.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export interface FleetOptions {
  /** Devices, numbered from `firstDevice`. */
  devices: number;
  firstDevice?: number;
  /** Metrics per device, numbered from 1. */
  metrics: number;
  /** Each series reports once per period. */
  periodMs: number;
  fromMs: number;
  toMs: number;
}


/** Every reading of the fleet in time order, series by series within one instant. */
export function* fleetReadings(options: FleetOptions, seed = 1): Generator<StoredReading> {
  const random = mulberry32(seed);
  const firstDevice = options.firstDevice ?? 1;
  for (let time = options.fromMs; time < options.toMs; time += options.periodMs) {
    for (let device = firstDevice; device < firstDevice + options.devices; device += 1) {
      for (let metric = 1; metric <= options.metrics; metric += 1) {
        yield { time: new Date(time), deviceNum: device, metricNum: metric, value: Math.round(random() * 1e6) / 1e3, qualityCode: 0, sourceQuality: undefined };
      }
    }
  }
}

/**
 * Batches of `size` readings, each followed by `duplicateShare` of redeliveries drawn
 * from itself and the batch before (with other values: the first delivery must win).
 */
export function* batchesOf(readings: Iterable<StoredReading>, size: number, duplicateShare: number, seed = 2): Generator<StoredReading[]> {
  const random = mulberry32(seed);
  let previous: StoredReading[] = [];
  let batch: StoredReading[] = [];
  const emit = () => {
    const pool = [...previous, ...batch];
    const duplicates = Array.from({ length: Math.round(batch.length * duplicateShare) }, () => ({ ...pool[Math.floor(random() * pool.length)]!, value: -1 }));
    const out = [...batch, ...duplicates];
    previous = batch;
    batch = [];
    return out;
  };
  for (const reading of readings) {
    batch.push(reading);
    if (batch.length === size) yield emit();
  }
  if (batch.length > 0) yield emit();
}

export function percentile(sortedMs: readonly number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))]!;
}

/** The machine and versions, printed with every result. */
export async function describeMachine(db: Queryable | undefined): Promise<string> {
  const cpu = cpus();
  const lines = [
    `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node ${process.version}`,
  ];
  if (db !== undefined) {
    const version = await db.query<{ version: string }>('SELECT version()');
    lines.push(`database: ${version.rows[0]?.version ?? 'unknown'}`);
    const timescale = await db.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
    if (timescale.rows[0] !== undefined) lines.push(`timescaledb ${timescale.rows[0].extversion}`);
  }
  return lines.join('\n');
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
