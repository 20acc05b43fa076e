import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createBackpressureGate } from '../gateways/mqtt/backpressure-gate.js';
import type { MqttGateway, MqttGatewayEvents } from '../gateways/mqtt/mqtt-gateway.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import type { IngestWorker, IngestWorkerEvents } from '../services/ingest/ingest-worker.js';
import { createStackMetrics } from './stack-metrics.js';

describe('stack metrics', () => {
  it('counts what the worker, the queue and the broker report', async () => {
    const workerEvents = new EventEmitter<IngestWorkerEvents>();
    const gatewayEvents = new EventEmitter<MqttGatewayEvents>();
    const registry = createStackMetrics({
      worker: { events: workerEvents } as unknown as IngestWorker,
      gateway: { events: gatewayEvents, connectedClients: 3 } as unknown as MqttGateway,
      queue: { counts: async () => ({ waiting: 7, delayed: 1, active: 2, failed: 0 }) } as unknown as IngestQueue,
      activeAlerts: async () => new Map([['critical/open', 2], ['warning/acknowledged', 1]]),
    });
    workerEvents.emit('stored', { jobId: '1', stored: 40, duplicates: 2, quarantined: 3, quarantinedByReason: { metric_unknown: 2, unit_mismatch: 1 }, processMs: 20, waitMs: 150 });
    workerEvents.emit('stored', { jobId: '2', stored: 10, duplicates: 0, quarantined: 1, quarantinedByReason: { metric_unknown: 1 }, processMs: 5, waitMs: 10 });
    const text = await registry.metrics();
    expect(text).toContain('urbansense_readings_ingested_total 50');
    expect(text).toContain('urbansense_messages_quarantined_total{reason="metric_unknown"} 3');
    expect(text).toContain('urbansense_messages_quarantined_total{reason="unit_mismatch"} 1');
    expect(text).toContain('urbansense_write_batch_readings_sum 56');
    expect(text).toContain('urbansense_write_batch_duration_seconds_count 2');
    expect(text).toContain('urbansense_queue_lag_seconds_sum 0.16');
    expect(text).toContain('urbansense_queue_jobs{state="waiting"} 7');
    expect(text).toContain('urbansense_mqtt_connections 3');
    expect(text).toContain('urbansense_alerts_active{severity="critical",state="open"} 2');
    expect(text).toContain('urbansense_alerts_active{severity="warning",state="acknowledged"} 1');
    expect(text).toContain('urbansense_alerts_active{severity="info",state="open"} 0');
  });

  it("reports the broker's backpressure: state, backlog, held messages and transitions", async () => {
    let backlog = 0;
    const gate = createBackpressureGate({ highWaterMessages: 10, maxHeldMessages: 5, maxHoldMs: 60_000, tickMs: 60_000 }, { backlogMessages: () => backlog });
    const registry = createStackMetrics({
      worker: undefined,
      gateway: { events: new EventEmitter<MqttGatewayEvents>(), connectedClients: 1, backpressure: gate } as unknown as MqttGateway,
      queue: { counts: async () => ({ waiting: 0, delayed: 0, active: 0, failed: 0 }) } as unknown as IngestQueue,
      activeAlerts: async () => new Map(),
    });
    backlog = 10;
    gate.enter(() => {}, () => {});
    gate.enter(() => {}, () => {});
    const text = await registry.metrics();
    gate.close();
    expect(text).toContain('urbansense_mqtt_backpressure_state{state="slowing"} 1');
    expect(text).toContain('urbansense_mqtt_backpressure_state{state="normal"} 0');
    expect(text).toContain('urbansense_mqtt_backlog_messages 10');
    expect(text).toContain('urbansense_mqtt_backlog_high_water_messages 10');
    expect(text).toContain('urbansense_mqtt_held_messages 2');
    expect(text).toContain('urbansense_mqtt_held_total 2');
    expect(text).toContain('urbansense_mqtt_backpressure_transitions_total{to="slowing"} 1');
  });
});
