import type { Logger } from 'pino';
import type { MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { OpcuaGateway } from '../gateways/opcua/opcua-gateway.js';
import type { IngestWorker } from '../services/ingest/ingest-worker.js';
import type { StorageMaintenance } from '../storage/storage-maintenance.js';
import { createLogThrottle } from './log-throttle.js';
import { observeOpcua } from './observe-opcua.js';

/** The modules emit events; this is where they become log lines (STYLE.md, Logging). */
export function observeStack(
  parts: { gateway: MqttGateway | undefined; worker: IngestWorker | undefined; maintenance?: StorageMaintenance | undefined; opcua?: OpcuaGateway | undefined },
  logger: Logger,
): void {
  const broker = logger.child({ component: 'mqtt' });
  // Refusals come in floods when someone attacks the broker: each is counted (stack-metrics.ts), a sample is logged.
  const admit = createLogThrottle();
  parts.gateway?.events.on('refused', (refused) => {
    const decision = admit(refused.reason);
    if (!decision.log) return;
    const left = decision.suppressed > 0 ? { suppressedBefore: decision.suppressed } : {};
    broker.warn({ ...refused, ...left }, `refused: ${refused.reason}${decision.suppressed > 0 ? ` (${decision.suppressed} more in the previous interval were not logged)` : ''}`);
  });
  parts.gateway?.events.on('connected', (info) => broker.debug(info, 'device connected'));
  parts.gateway?.events.on('disconnected', (info) => broker.debug(info, 'device disconnected'));
  // Issue 8: a broker-only process has no /metrics, so its backpressure state changes are logged (docs/backpressure.md).
  parts.gateway?.backpressure?.events.on('state', (status) =>
    broker[status.state === 'normal' ? 'info' : 'warn'](status, `backpressure: ${status.state} (backlog ${status.backlogMessages} of ${status.highWaterMessages} messages)`),
  );
  observeOpcua(parts.opcua, logger);

  const ingest = logger.child({ component: 'ingest' });
  parts.worker?.events.on('stored', (result) => ingest.debug(result, 'batch stored'));
  parts.worker?.events.on('failed', ({ jobId, attemptsMade, error }) =>
    ingest.error({ jobId, attemptsMade, err: error }, 'batch failed; it will be retried'),
  );
  parts.worker?.events.on('error', (error) => ingest.error({ err: error }, 'worker error'));

  const storage = logger.child({ component: 'storage' });
  parts.maintenance?.events.on('ran', (report) => {
    for (const task of report.tasks) {
      // Work done (partitions, chunks, policies) at info; routine passes that changed nothing at debug.
      const level = task.changes.length > 0 ? 'info' : 'debug';
      storage[level]({ mode: report.mode, task: task.name, ms: task.ms, changes: task.changes }, `maintenance: ${task.name}${task.changes.length > 0 ? `: ${task.changes.join('; ')}` : ''}`);
    }
  });
  parts.maintenance?.events.on('warning', (warning) => storage.warn(warning, `maintenance: ${warning.task}: ${warning.message}`));
  parts.maintenance?.events.on('error', (error) => storage.error({ err: error }, 'maintenance pass failed; the next one runs on schedule'));
}
