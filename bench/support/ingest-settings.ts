import type { BenchContext } from './scenario.js';

/** How the ingest scenarios (and the broker-alone baseline) load the stack. */
export interface IngestSettings {
  /** Device connections, one per device. */
  devices: number;
  /** Publishes awaiting PUBACK per connection. */
  inFlightPerConnection: number;
  warmupMs: number;
  windowMs: number;
  /** Worker processes. */
  workers: number;
  /** Jobs each worker process handles at once (WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** Messages per queue job (INGEST_BATCH_MAX_MESSAGES). */
  batchMaxMessages: number;
  /** Longest a batch waits to fill before it is sent (INGEST_BATCH_MAX_WAIT_MS). */
  batchMaxWaitMs: number;
}

const FULL: IngestSettings = {
  devices: 300,
  inFlightPerConnection: 20,
  warmupMs: 15_000,
  windowMs: 60_000,
  workers: 2,
  workerConcurrency: 4,
  batchMaxMessages: 500,
  batchMaxWaitMs: 10,
};

const QUICK: IngestSettings = { ...FULL, devices: 4, warmupMs: 500, windowMs: 1_500, workers: 1 };

const KEYS: Record<string, keyof IngestSettings> = {
  devices: 'devices',
  'in-flight': 'inFlightPerConnection',
  'warmup-s': 'warmupMs',
  'window-s': 'windowMs',
  workers: 'workers',
  concurrency: 'workerConcurrency',
  batch: 'batchMaxMessages',
  'batch-wait-ms': 'batchMaxWaitMs',
};

/**
 * The defaults (small ones for `--quick`), overridden by command-line options:
 * `--devices --in-flight --warmup-s --window-s --workers --concurrency --batch --batch-wait-ms`.
 */
export function ingestSettings(context: BenchContext): IngestSettings {
  const settings = { ...(context.quick ? QUICK : FULL) };
  for (const [option, key] of Object.entries(KEYS)) {
    const raw = context.options?.[option];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${option}=${raw}: expected a positive whole number`);
    settings[key] = option.endsWith('-s') ? value * 1000 : value;
  }
  return settings;
}
