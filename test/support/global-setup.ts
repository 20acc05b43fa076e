import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalPostgres } from '../../runtime/local-postgres.js';
import { startLocalRedis } from '../../runtime/local-redis.js';
// For the ProvidedContext augmentation that types project.provide below.
import type {} from './services.js';

function reasons(results: Array<PromiseSettledResult<unknown>>): unknown[] {
  return results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
}

/**
 * Starts one Redis and one PostgreSQL for the whole run and hands their URLs
 * to the tests (see services.ts). Tests isolate themselves by name, so one
 * server of each is enough, and starting them once keeps the run fast.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisDir = await mkdtemp(join(tmpdir(), 'urbansense-test-redis-'));
  // Started together: the two do not depend on each other (apt installs, if
  // any, are serialised inside the launchers).
  const [redis, postgres] = await Promise.allSettled([
    startLocalRedis({ dataDir: redisDir }),
    startLocalPostgres(),
  ]);

  const teardown = async (): Promise<void> => {
    // Every step runs even when an earlier one fails.
    const steps: Array<Promise<unknown>> = [];
    if (redis.status === 'fulfilled') steps.push(redis.value.close());
    if (postgres.status === 'fulfilled') steps.push(postgres.value.close());
    const results = await Promise.allSettled(steps);
    await rm(redisDir, { recursive: true, force: true });
    const failures = reasons(results);
    if (failures.length > 0) throw new AggregateError(failures, 'closing the test services failed');
  };

  if (redis.status === 'rejected' || postgres.status === 'rejected') {
    await teardown();
    const failures = reasons([redis, postgres]);
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'starting the test services failed');
  }

  project.provide('redisUrl', redis.value.url);
  project.provide('postgresUrl', postgres.value.url);
  return teardown;
}
