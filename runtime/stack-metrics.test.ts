import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
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
  });
});
