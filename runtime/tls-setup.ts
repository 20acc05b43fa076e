import { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/config-schema.js';
import { loadTlsFiles, tlsWarnings, type TlsFiles } from '../config/tls-files.js';
import type { TlsListenersOptions } from '../gateways/mqtt/listeners.js';
import type { MqttGateway } from '../gateways/mqtt/mqtt-gateway.js';
import type { ApiContext } from '../services/api/api-context.js';
import type { Api } from '../services/api/create-api.js';

/**
 * Reads and checks TLS_CERT_FILE and its companions when a role of this process
 * listens (broker, api): a bad file stops the start with a ConfigError; an expired or
 * soon expiring certificate is logged (config/tls-files.ts says why it is no more).
 */
export async function loadTls(config: Readonly<Config>, logger: Logger): Promise<TlsFiles | undefined> {
  if (!config.roles.includes('broker') && !config.roles.includes('api')) return undefined;
  const files = await loadTlsFiles(config);
  for (const warning of files === undefined ? [] : tlsWarnings(files.certificate)) {
    logger.warn({ component: 'tls', subject: files?.certificate.subject, validTo: files?.certificate.validTo }, warning);
  }
  return files;
}

/** The broker's mqtts and wss listeners; a port of 0 in the configuration turns one off. */
export function mqttTlsListeners(config: Readonly<Config>, files: TlsFiles | undefined): TlsListenersOptions | undefined {
  if (files === undefined) return undefined;
  return {
    cert: files.cert,
    key: files.key,
    clientCa: files.clientCa,
    port: config.mqttTlsPort === 0 ? undefined : config.mqttTlsPort,
    wsPort: config.mqttWssPort === 0 ? undefined : config.mqttWssPort,
  };
}

/** The API's HTTPS material when API_TLS is on (it defaults to on with TLS_CERT_FILE). */
export function apiHttps(config: Readonly<Config>, files: TlsFiles | undefined): { cert: Buffer; key: Buffer } | undefined {
  return config.apiTls && files !== undefined ? { cert: files.cert, key: files.key } : undefined;
}

/**
 * Where devices connect, told at registration: the broker's bound ports in this
 * process, else (an api-only process) the ports the broker reads from the same variables.
 */
export function advertisedMqttPorts(config: Readonly<Config>, gateway: MqttGateway | undefined): ApiContext['mqtt'] {
  if (gateway !== undefined) return { port: gateway.port === 0 ? undefined : gateway.port, wsPort: gateway.wsPort, tlsPort: gateway.tlsPort, wssPort: gateway.wssPort };
  const tls = config.tlsCertFile !== undefined;
  const on = (port: number) => (port === 0 ? undefined : port);
  return {
    port: config.mqttPort,
    wsPort: on(config.mqttWsPort),
    tlsPort: tls ? on(config.mqttTlsPort) : undefined,
    wssPort: tls ? on(config.mqttWssPort) : undefined,
  };
}

/**
 * Reads the TLS files again and hands them to the running listeners, for a renewed
 * certificate (SIGHUP): new connections get it, open ones keep theirs, nobody is
 * disconnected. A bad file throws a ConfigError and the listeners keep what they have.
 */
export async function renewTls(config: Readonly<Config>, logger: Logger, parts: { gateway: MqttGateway | undefined; api: Api | undefined }): Promise<void> {
  const files = await loadTls(config, logger);
  if (files === undefined) return;
  parts.gateway?.renewCertificate(files);
  const server = parts.api?.app.server;
  if (config.apiTls && server instanceof TlsServer) server.setSecureContext({ cert: files.cert, key: files.key });
  logger.info({ component: 'tls', subject: files.certificate.subject, validTo: files.certificate.validTo }, 'TLS certificate files read again');
}
