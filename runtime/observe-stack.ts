import type { Logger } from 'pino';
import type { MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { IngestWorker } from '../services/ingest/ingest-worker.js';

/** The modules emit events; this is where they become log lines (STYLE.md, Logging). */
export function observeStack(parts: { gateway: MqttGateway | undefined; worker: IngestWorker | undefined }, logger: Logger): void {
  const broker = logger.child({ component: 'mqtt' });
  parts.gateway?.events.on('refused', (refused) => broker.warn({ ...refused }, `refused: ${refused.reason}`));
  parts.gateway?.events.on('connected', (info) => broker.debug(info, 'device connected'));
  parts.gateway?.events.on('disconnected', (info) => broker.debug(info, 'device disconnected'));

  const ingest = logger.child({ component: 'ingest' });
  parts.worker?.events.on('stored', (result) => ingest.debug(result, 'batch stored'));
  parts.worker?.events.on('failed', ({ jobId, attemptsMade, error }) =>
    ingest.error({ jobId, attemptsMade, err: error }, 'batch failed; it will be retried'),
  );
  parts.worker?.events.on('error', (error) => ingest.error({ err: error }, 'worker error'));
}
