import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl, testRedisUrl } from '../test/support/services.js';
import { runBench } from './run.js';

/*
 * The benchmark's smoke form, as CI runs it: the scenarios that store readings, at tiny
 * sizes, through the compiled stack processes. It asserts that they complete and that
 * every acknowledged reading was stored, never a speed.
 */
describe('npm run bench -- --quick', () => {
  let resultsDir: string | undefined;
  afterAll(async () => {
    if (resultsDir !== undefined) await rm(resultsDir, { recursive: true, force: true });
  });

  it('runs the ingest and latency scenarios end to end and stores every acknowledged reading', async () => {
    resultsDir = await mkdtemp(path.join(tmpdir(), 'urbansense-bench-smoke-'));
    const lines: string[] = [];
    const run = await runBench({
      scenarios: ['ingest-1', 'ingest-10', 'latency'],
      quick: true,
      // CI builds before testing; a stale dist/ (an edited source) is rebuilt first.
      build: 'when-stale',
      postgresUrl: testPostgresUrl(),
      redisUrl: testRedisUrl(),
      resultsDir,
      print: (line) => lines.push(line),
    });

    expect(run.failures).toEqual([]);
    expect(run.results.map((result) => result.name)).toEqual(['ingest-1', 'ingest-10', 'latency']);
    for (const result of run.results) {
      expect(result.sent, result.name).toBeGreaterThan(0);
      expect(result.stored, result.name).toBe(result.sent);
    }
    // Ten readings per message: the stored count is readings, not messages.
    expect((run.results[1]!.sent ?? 0) % 10).toBe(0);
    expect(run.results[2]!.figures.samples?.value).toBeGreaterThan(0);
    // Progress lines show the run is alive, with the load average at start and end.
    expect(lines.some((line) => /^\[ingest-1 \+\d+s\] start; load average/.test(line))).toBe(true);
    const written = JSON.parse(await readFile(path.join(resultsDir, 'latest.json'), 'utf8')) as { results: unknown[] };
    expect(written.results).toHaveLength(3);
    expect(await readFile(path.join(resultsDir, 'latest.md'), 'utf8')).toContain('### ingest-10');
  }, 240_000);
});
