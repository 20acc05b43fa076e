import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { BackpressureGate } from '../gateways/mqtt/backpressure-gate.js';
import { BACKPRESSURE_STATES } from '../gateways/mqtt/backpressure-policy.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import { SEVERITIES } from '../services/alerts/alert-rule.js';
import type { IngestWorker } from '../services/ingest/ingest-worker.js';

/**
 * The stack's Prometheus metrics, fed by the events the modules already emit (STYLE.md:
 * library modules do not know about metrics). Each process exports what it runs:
 * ingest counters in the worker role, broker connections in the broker role, the
 * queue depth wherever the queue is reachable.
 */
export function createStackMetrics(parts: {
  worker: IngestWorker | undefined;
  gateway: MqttGateway | undefined;
  queue: IngestQueue;
  /** Issue 7: active alerts keyed `severity/state`, read at scrape time. */
  activeAlerts?: () => Promise<ReadonlyMap<string, number>>;
}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'urbansense_' });

  const ingested = new Counter({ name: 'urbansense_readings_ingested_total', help: 'Readings written (new rows; redeliveries not counted).', registers: [registry] });
  const duplicates = new Counter({ name: 'urbansense_readings_duplicate_total', help: 'Readings already stored (redelivered or retried), skipped.', registers: [registry] });
  const quarantined = new Counter({
    name: 'urbansense_messages_quarantined_total', help: 'Quarantine entries written, by reason (docs/errors.md).', labelNames: ['reason'] as const, registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'urbansense_write_batch_readings', help: 'Readings per committed queue job (stored + duplicates + quarantined).',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000], registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'urbansense_write_batch_duration_seconds', help: 'Decode-and-write time of a committed queue job.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  const lagSeconds = new Histogram({
    name: 'urbansense_queue_lag_seconds', help: 'Time from enqueue to start of processing of committed jobs.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300], registers: [registry],
  });
  parts.worker?.events.on('stored', (result) => {
    ingested.inc(result.stored);
    duplicates.inc(result.duplicates);
    for (const [reason, count] of Object.entries(result.quarantinedByReason)) quarantined.inc({ reason }, count ?? 0);
    batchSize.observe(result.stored + result.duplicates + result.quarantined);
    batchSeconds.observe(result.processMs / 1000);
    lagSeconds.observe(result.waitMs / 1000);
  });
  const failures = new Counter({ name: 'urbansense_ingest_job_failures_total', help: 'Failed queue job attempts (retried with backoff).', registers: [registry] });
  parts.worker?.events.on('failed', () => failures.inc());

  new Gauge({
    name: 'urbansense_queue_jobs', help: 'Ingest queue jobs by state, read at scrape time.', labelNames: ['state'] as const, registers: [registry],
    async collect() {
      try {
        const counts = await parts.queue.counts();
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      } catch {
        // Redis down: the gauge keeps its last values; /readyz reports the outage.
      }
    },
  });
  const activeAlerts = parts.activeAlerts;
  if (activeAlerts !== undefined) {
    new Gauge({
      name: 'urbansense_alerts_active', help: 'Alerts open or acknowledged, by severity and state, read at scrape time.',
      labelNames: ['severity', 'state'] as const, registers: [registry],
      async collect() {
        try {
          const counts = await activeAlerts();
          // Every combination is set, so a series drops back to 0 when its last alert clears.
          for (const severity of SEVERITIES) {
            for (const state of ['open', 'acknowledged'] as const) this.set({ severity, state }, counts.get(`${severity}/${state}`) ?? 0);
          }
        } catch {
          // Database down: the gauge keeps its last values; /readyz reports the outage.
        }
      },
    });
  }
  const gateway = parts.gateway;
  if (gateway !== undefined) {
    new Gauge({
      name: 'urbansense_mqtt_connections', help: 'MQTT clients connected to this broker.', registers: [registry],
      collect() { this.set(gateway.connectedClients); },
    });
    const refused = new Counter({ name: 'urbansense_mqtt_refused_total', help: 'Refused MQTT connections, publishes and subscriptions, by reason.', labelNames: ['reason'] as const, registers: [registry] });
    gateway.events.on('refused', (refusal) => refused.inc({ reason: refusal.reason }));
    if (gateway.backpressure !== undefined) registerBackpressureMetrics(registry, gateway.backpressure);
  }
  return registry;
}

/** Issue 8: the bounded backlog, read at scrape time (docs/backpressure.md). */
function registerBackpressureMetrics(registry: Registry, gate: BackpressureGate): void {
  new Gauge({
    name: 'urbansense_mqtt_backpressure_state', help: 'The broker\'s backpressure state: 1 for the current one of normal, slowing, refusing.',
    labelNames: ['state'] as const, registers: [registry],
    collect() {
      for (const state of BACKPRESSURE_STATES) this.set({ state }, gate.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'urbansense_mqtt_backlog_messages', help: 'Messages waiting to be stored, as the broker bounds them: queued in Redis and accepted into its batch.', registers: [registry],
    collect() { this.set(gate.status().backlogMessages); },
  });
  new Gauge({
    name: 'urbansense_mqtt_backlog_high_water_messages', help: 'MQTT_BACKLOG_HIGH_WATER: the backlog at which the broker slows devices.', registers: [registry],
    collect() { this.set(gate.status().highWaterMessages); },
  });
  const transitions = new Counter({
    name: 'urbansense_mqtt_backpressure_transitions_total', help: 'Changes of the broker\'s backpressure state, by the state entered.',
    labelNames: ['to'] as const, registers: [registry],
  });
  gate.events.on('state', (status) => transitions.inc({ to: status.state }));
  const heldTotal = new Counter({ name: 'urbansense_mqtt_held_total', help: 'Messages the broker held (slowing their device) instead of queueing them at once.', registers: [registry] });
  gate.events.on('held', () => heldTotal.inc());
  new Gauge({
    name: 'urbansense_mqtt_held_messages', help: 'Messages held unacknowledged by the broker, waiting for the backlog to shrink.', registers: [registry],
    collect() { this.set(gate.status().heldMessages); },
  });
}
