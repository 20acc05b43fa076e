import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl, testRedisUrl } from '../../test/support/services.js';
import { runBench } from '../run.js';

/*
 * The smoke form of scenarios 5–7 (queries, connections, OPC UA) through the compiled
 * stack processes: each completes, every query answer was whole (the scenario checks
 * every repetition and fails otherwise), bucketed answers came from the 1-hour rollup,
 * every device connection stayed open, and OPC UA values were stored. Never a speed.
 */
describe('npm run bench -- queries connections opcua --quick', () => {
  let resultsDir: string | undefined;
  afterAll(async () => {
    if (resultsDir !== undefined) await rm(resultsDir, { recursive: true, force: true });
  });

  it('runs the query, connection and OPC UA scenarios end to end', async () => {
    resultsDir = await mkdtemp(path.join(tmpdir(), 'urbansense-bench-smoke-'));
    const run = await runBench({
      scenarios: ['queries', 'connections', 'opcua'],
      quick: true,
      build: 'when-stale',
      postgresUrl: testPostgresUrl(),
      redisUrl: testRedisUrl(),
      resultsDir,
      print: () => {},
    });

    expect(run.failures).toEqual([]);
    const [queries, connections, opcua] = run.results;
    expect(queries?.figures.series_30d_1h_api_p95?.value).toBeGreaterThan(0);
    expect(queries?.notes?.find((note) => note.startsWith('series_30d_1h'))).toContain('source rollup_1h');
    expect(queries?.notes?.find((note) => note.startsWith('series_24h_raw'))).toContain('source raw');
    expect(connections?.figures.connacks?.value).toBe(connections?.configuration.connections);
    expect(connections?.figures.still_open_after_idle?.met).toBe(true);
    expect(opcua?.figures.stored?.value).toBeGreaterThan(0);
    expect(opcua?.figures.quarantined?.value).toBe(0);
  }, 300_000);
});
