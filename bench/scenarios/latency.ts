import { setTimeout as delay } from 'node:timers/promises';
import { percentile } from '../storage-dataset.js';
import { startBenchStack, type BenchStack } from '../support/bench-stack.js';
import { ingestSettings, type IngestSettings } from '../support/ingest-settings.js';
import type { BenchContext, Scenario } from '../support/scenario.js';
import { measureSustained, waitForDrain } from '../support/sustained-rate.js';
import { startLoad } from '../load/run-load.js';

/*
 * Scenario 4: at half the sustained rate, how long from a device's publish until the
 * reading is visible through the API. Visible = it arrives on the API's live stream
 * (GET /api/v1/stream), which carries only committed readings. Each reading's timestamp
 * is its publish time (bench/load/load-plan.ts), so the latency is arrival − timestamp.
 */

const PROBE_DEVICES = 20;

interface Arrivals {
  latenciesMs: number[];
  close(): void;
}

/** A dashboard's view: the SSE stream of the probe devices, timing each reading published after `fromMs`. */
async function watchStream(stack: BenchStack, deviceIds: readonly string[], fromMs: () => number): Promise<Arrivals> {
  const controller = new AbortController();
  const response = await fetch(`${stack.apiUrl}/api/v1/stream?device=${deviceIds.join(',')}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${stack.adminKey}` },
    signal: controller.signal,
  });
  if (!response.ok || response.body === null) throw new Error(`GET /api/v1/stream answered ${response.status}`);
  const latenciesMs: number[] = [];
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        const arrivedMs = Date.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (!block.includes('event: reading') || data === undefined) continue;
          const publishedMs = Date.parse((JSON.parse(data.slice(6)) as { time: string }).time);
          if (publishedMs >= fromMs()) latenciesMs.push(arrivedMs - publishedMs);
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return { latenciesMs, close: () => controller.abort() };
}

/** The sustained rate from ingest-1 of this run, or measured here on this stack when run alone. */
async function sustainedRate(context: BenchContext, stack: BenchStack, settings: IngestSettings): Promise<{ rate: number; source: string }> {
  const earlier = context.earlier?.find((result) => result.name === 'ingest-1')?.figures.stored?.value;
  if (earlier !== undefined && earlier > 0) return { rate: earlier, source: 'ingest-1 of this run' };
  context.progress('no ingest-1 result in this run: measuring the sustained rate first');
  const warm = await measureSustained(context, {
    plan: { host: '127.0.0.1', port: stack.mqttPort, deviceIds: stack.deviceIds, secret: stack.secret, readingsPerMessage: 1, inFlightPerConnection: settings.inFlightPerConnection },
    warmupMs: Math.min(settings.warmupMs, 5_000), windowMs: Math.min(settings.windowMs, 15_000), watched: stack.watched, countStored: () => stack.countReadings(),
  });
  return { rate: warm.storedPerS ?? 0, source: `measured here over ${Math.min(settings.windowMs, 15_000) / 1000} s` };
}

export const latencyScenario: Scenario = {
  name: 'latency',
  title: 'Latency at half the sustained rate: publish → stored → visible through the API',
  async run(context) {
    const settings = ingestSettings(context);
    const stack = await startBenchStack(context, 'latency', { ...settings, api: true });
    try {
      const sustained = await sustainedRate(context, stack, settings);
      const rate = Math.max(1, Math.round(sustained.rate / 2));
      const probes = stack.deviceIds.slice(0, Math.min(PROBE_DEVICES, stack.deviceIds.length));
      const warmupMs = Math.min(settings.warmupMs, 5_000);
      const windowMs = context.quick ? settings.windowMs : 30_000;
      let windowStartMs = Number.POSITIVE_INFINITY;
      const arrivals = await watchStream(stack, probes, () => windowStartMs);
      const before = await stack.countReadings();
      context.progress(`publishing ${rate.toLocaleString('en')} messages/s (half of ${Math.round(sustained.rate).toLocaleString('en')}, ${sustained.source}); timing ${probes.length} devices on the live stream`);
      const load = startLoad({
        host: '127.0.0.1', port: stack.mqttPort, deviceIds: stack.deviceIds, secret: stack.secret, readingsPerMessage: 1,
        inFlightPerConnection: settings.inFlightPerConnection, messagesPerSecond: rate, durationMs: warmupMs + windowMs,
      });
      await load.connected;
      await delay(warmupMs);
      windowStartMs = Date.now();
      const report = await load.done;
      const stored = (await waitForDrain(context, () => stack.countReadings(), before + report.acked, 60_000)) - before;
      // The last readings of the window reach the stream a moment after they are stored.
      await delay(1_000);
      arrivals.close();
      const sorted = [...arrivals.latenciesMs].sort((a, b) => a - b);
      if (sorted.length === 0) throw new Error('no reading of the probe devices arrived on the live stream');
      const p50 = percentile(sorted, 50);
      const p99 = percentile(sorted, 99);
      const achievedRate = Math.round(report.acked / (report.publishMs / 1000));
      return {
        name: 'latency',
        title: this.title,
        figures: {
          p50: { value: p50, unit: 'ms', target: '< 150', met: p50 < 150 },
          p95: { value: percentile(sorted, 95), unit: 'ms' },
          p99: { value: p99, unit: 'ms', target: '< 1000', met: p99 < 1000 },
          max: { value: sorted[sorted.length - 1]!, unit: 'ms' },
          samples: { value: sorted.length, unit: 'readings' },
          offered_rate: { value: achievedRate, unit: 'messages/s' },
        },
        configuration: {
          targetRate: rate, sustainedRate: Math.round(sustained.rate), sustainedFrom: sustained.source, devices: settings.devices,
          probeDevices: probes.length, warmupS: warmupMs / 1000, windowS: windowMs / 1000, workerProcesses: settings.workers,
          workerConcurrency: settings.workerConcurrency, batchMaxMessages: settings.batchMaxMessages, batchMaxWaitMs: settings.batchMaxWaitMs,
        },
        sent: report.acked,
        stored,
        notes: [
          'Latency = arrival on GET /api/v1/stream (an SSE client in the bench process) − the reading\'s timestamp, which is its publish time; the stream carries readings only after their transaction committed.',
          'The clocks are the same machine\'s: no skew.',
        ],
      };
    } finally {
      await stack.close();
    }
  },
};
