import type { Logger } from 'pino';
import type { OpcuaGateway } from '../gateways/opcua/opcua-gateway.js';

/** The OPC UA gateway's events as log lines (STYLE.md, Logging), one child logger per server. */
export function observeOpcua(gateway: OpcuaGateway | undefined, logger: Logger): void {
  if (gateway === undefined) return;
  const log = logger.child({ component: 'opcua' });
  gateway.events.on('state', (change) => {
    const level = change.state === 'failed' ? 'error' : change.state === 'connected' || change.state === 'closed' ? 'info' : 'warn';
    log[level](change, `${change.server}: ${change.previous} → ${change.state}${change.error === undefined ? '' : `: ${change.error}`}`);
  });
  gateway.events.on('connected', (info) => log.info(info, info.downtimeMs === undefined
    ? `${info.server}: monitoring ${info.monitored} nodes, polling ${info.polled}, ${info.failed} failed`
    : `${info.server}: reconnected after ${info.downtimeMs} ms; monitoring ${info.monitored} nodes, polling ${info.polled}, ${info.failed} failed`));
  gateway.events.on('lost', (info) => log.warn(info, `${info.server}: ${info.reason}; reconnecting`));
  // A long outage retries every few seconds: the first attempts and then one in sixty at warn, the rest at debug.
  gateway.events.on('attemptFailed', (info) => log[info.attempt <= 3 || info.attempt % 60 === 0 ? 'warn' : 'debug'](info, `${info.server}: attempt ${info.attempt} failed: ${info.error}; next in ${info.retryInMs} ms`));
  gateway.events.on('nodeFailed', (report) => log.error(report, `${report.server}: node ${report.node} (${report.device}/${report.metric}): ${report.reason}`));
  gateway.events.on('dropped', (info) => log.error(info, `${info.server}: ${info.count} values dropped (${info.why === 'overflow' ? 'backlog full while the queue is unreachable' : 'not delivered at shutdown'})`));
  gateway.events.on('queueFailed', (info) => log.error(info, `${info.server}: the queue refused values; holding them and retrying: ${info.error}`));
  gateway.events.on('queueRecovered', (info) => log.info(info, `${info.server}: the queue takes values again`));
  // node-opcua's warnings are mostly noise next to the events above; its errors are worth seeing.
  gateway.events.on('library', (entry) => log[entry.level === 'error' ? 'warn' : 'debug']({ library: 'node-opcua' }, entry.message));
}
