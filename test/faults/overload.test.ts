import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually } from '../support/api-client.js';
import { readBrokerGauges, samplePeaks } from './backpressure-sampler.js';
import { planReadings, planStartMs, publishReadings } from './harness/devices.js';
import { startFaultEnvironment, type FaultEnvironment } from './harness/fault-environment.js';
import { FAULT_TEST_TIMEOUT_MS, scaled } from './harness/fault-scale.js';
import { formatCheck } from './harness/reading-check.js';
import { settleAndCheck } from './harness/settle.js';
import { installSlowWrites } from './harness/slow-writes.js';

// The database stores at most BATCH readings per WRITE_DELAY_MS (one worker, one job at a
// time); the devices offer several times that. The bounds are small so that the broker
// reaches them within a second of load; MAX_HELD is below what the devices keep in flight
// together (DEVICES × 20), so holding alone cannot absorb them and the broker also refuses.
const DEVICES = scaled(4, 12);
const HIGH_WATER = scaled(200, 2000);
const MAX_HELD = scaled(40, 200);
const BATCH = 50;
const WRITE_DELAY_MS = 100;

describe('fault: overload, devices publish faster than the database writes', () => {
  let env: FaultEnvironment;
  beforeAll(async () => {
    env = await startFaultEnvironment({
      redisFsync: 'everysec',
      env: {
        INGEST_BATCH_MAX_MESSAGES: String(BATCH),
        // Fuller jobs: the slow database pays per job.
        INGEST_BATCH_MAX_WAIT_MS: '50',
        WORKER_CONCURRENCY: '1',
        MQTT_BACKLOG_HIGH_WATER: String(HIGH_WATER),
        MQTT_BACKPRESSURE_MAX_HELD: String(MAX_HELD),
        MQTT_BACKPRESSURE_MAX_HOLD_MS: '1500',
      },
    });
  });
  afterAll(async () => env?.close());

  it('slows and refuses devices instead of acknowledging what it cannot keep, keeps the backlog bounded, and drains', async () => {
    await Promise.all([env.startBroker(), env.startWorker()]);
    const devices = await env.registerDevices(DEVICES);
    await installSlowWrites(env.databaseUrl, WRITE_DELAY_MS);
    const planned = planReadings(devices, scaled(150, 2500), { startMs: planStartMs(), outOfRangeEvery: 50 });
    const sampler = samplePeaks(env.apiUrl, async () => (await env.queuedReadings()).size);
    // Twenty QoS 1 messages in flight per device, one every 2 ms: far more than BATCH per WRITE_DELAY_MS.
    const run = publishReadings(env.mqttUrl, devices, planned, { intervalMs: 2, maxInFlight: 20 });
    try {
      const check = await settleAndCheck(env, planned, run, scaled(90_000, 600_000));
      const peaks = await sampler.stop();
      const gauges = await readBrokerGauges(env.apiUrl);
      const refused = (gauges.refused.backlog_full ?? 0) + (gauges.refused.server_busy ?? 0);
      process.stdout.write(
        `${formatCheck('overload', check)}, refused=${refused} (publishes ${gauges.refused.backlog_full ?? 0}, connects ${gauges.refused.server_busy ?? 0}), ` +
          `peak backlog=${peaks.queuedReadings} (broker reported ${peaks.reportedBacklog}, mark ${HIGH_WATER}), peak held=${peaks.heldMessages}, ` +
          `held=${gauges.heldTotal}, entered slowing ${gauges.transitions.slowing ?? 0}× and refusing ${gauges.transitions.refusing ?? 0}×, connects=${run.connects}\n`,
      );

      // Every reading was acknowledged in the end, and every acknowledged one is where it belongs, once.
      expect(check.acknowledged).toBe(check.n);
      expect(check.missingSample, `${check.missing} acknowledged readings missing`).toEqual([]);
      expect(check.duplicates).toBe(0);
      expect(check.stored + check.quarantined).toBe(check.n);
      expect(check.queue.failed, 'jobs parked as failed').toBe(0);

      // The broker was overloaded, said so, and pushed back: it held messages (slowing) and
      // refused publishes and connections (each counted with its reason); the devices came back.
      expect(peaks.samples).toBeGreaterThan(5);
      expect(gauges.transitions.slowing ?? 0).toBeGreaterThan(0);
      expect(gauges.transitions.refusing ?? 0).toBeGreaterThan(0);
      expect(gauges.heldTotal).toBeGreaterThan(0);
      expect(gauges.refused.backlog_full ?? 0).toBeGreaterThan(0);
      expect(gauges.refused.server_busy ?? 0).toBeGreaterThan(0);
      expect(run.connects).toBeGreaterThan(devices.length);

      // Bounded: the readings waiting in Redis never passed the mark (one broker: no slack,
      // docs/backpressure.md), and the broker never held more than its limit in memory.
      expect(peaks.queuedReadings).toBeGreaterThan(HIGH_WATER / 2);
      expect(peaks.queuedReadings).toBeLessThanOrEqual(HIGH_WATER);
      expect(peaks.heldMessages).toBeLessThan(MAX_HELD);

      // Load gone: the broker is back to normal with nothing waiting or held.
      const drained = await eventually(async () => {
        const now = await readBrokerGauges(env.apiUrl);
        return now.state === 'normal' && now.backlogMessages === 0 ? now : undefined;
      }, 10_000, 'the broker back to normal');
      expect(drained.heldMessages).toBe(0);
      const ready = await api<{ checks: Record<string, unknown> }>(env.apiUrl, 'GET', '/readyz');
      expect(ready.body.checks.broker).toMatchObject({ status: 'ok', state: 'normal', heldMessages: 0, highWaterMessages: HIGH_WATER });
    } finally {
      await sampler.stop();
      await run.close();
    }
  }, FAULT_TEST_TIMEOUT_MS);
});
