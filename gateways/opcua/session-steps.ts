import { readFile } from 'node:fs/promises';
import {
  MessageSecurityMode, OPCUAClient, SecurityPolicy, UserTokenType, type ClientSession, type UserIdentityInfo,
} from 'node-opcua';
import type { OpcuaServerConfig } from './opcua-config.js';
import type { GatewayPki } from './opcua-pki.js';

/**
 * The steps of one connection attempt that talk to node-opcua — client, secure channel,
 * session — and the translation of what node-opcua says when one fails into a sentence
 * an operator can act on.
 */

/** A failure that retrying will not fix until someone changes a configuration (credentials, trust). */
export class ConnectRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectRefusedError';
  }
}

/** A failure already said in the operator's words; it may heal by itself (a file that appears later). */
export class ExplainedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ExplainedError';
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createClient(server: OpcuaServerConfig, pki: GatewayPki): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'urbansense OPC UA gateway',
    applicationUri: pki.applicationUri,
    clientName: `urbansense:${server.name}`,
    clientCertificateManager: pki.certificateManager,
    certificateFile: pki.certificateFile,
    privateKeyFile: pki.privateKeyFile,
    securityMode: MessageSecurityMode[server.securityMode],
    securityPolicy: SecurityPolicy[server.securityPolicy],
    endpointMustExist: false,
    // One try per attempt: the gateway's own loop does the backoff, the watchdog and the
    // state reporting, and rebuilds session and subscriptions from the mapping every time.
    connectionStrategy: { maxRetry: 0, initialDelay: server.reconnectInitialDelayMs, maxDelay: server.reconnectMaxDelayMs },
    keepSessionAlive: true,
    requestedSessionTimeout: server.sessionTimeoutMs,
    transportTimeout: server.requestTimeoutMs,
    defaultTransactionTimeout: server.requestTimeoutMs,
  });
}

export async function identityOf(server: OpcuaServerConfig): Promise<UserIdentityInfo> {
  const identity = server.identity;
  if (identity.type === 'username') {
    // A secret file usually ends with a newline nobody meant as part of the password.
    const password = 'passwordFile' in identity ? (await readFile(identity.passwordFile, 'utf8')).replace(/\r?\n$/, '') : identity.password;
    return { type: UserTokenType.UserName, userName: identity.username, password };
  }
  if (identity.type === 'anonymous') return { type: UserTokenType.Anonymous };
  const [certificate, privateKey] = await Promise.all([readFile(identity.certificateFile, 'latin1'), readFile(identity.privateKeyFile, 'utf8')]);
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(certificate)?.[1];
  const certificateData = pem === undefined ? Buffer.from(certificate, 'latin1') : Buffer.from(pem.replace(/\s+/g, ''), 'base64');
  return { type: UserTokenType.Certificate, certificateData, privateKey };
}

const IDENTITY_REFUSED = /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid/;
const SERVER_REFUSED_US = /BadSecurityChecksFailed|BadCertificateUntrusted|BadCertificateInvalid|BadCertificateUriInvalid|BadCertificateTimeInvalid/;

/** What went wrong, said so that the operator knows what to change. */
export function explainFailure(error: unknown, server: OpcuaServerConfig, pki: GatewayPki, step: 'connect' | 'session' | 'monitor'): Error {
  if (error instanceof ConnectRefusedError || error instanceof ExplainedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const status = /Bad[A-Za-z]+/.exec(message)?.[0];
  if (step === 'session' && status !== undefined && IDENTITY_REFUSED.test(status)) {
    const who = server.identity.type === 'username' ? `user "${server.identity.username}"` : `the ${server.identity.type} identity`;
    return new ConnectRefusedError(`the server refused ${who} (${status}): check the username and password (or certificate) in the mapping`, { cause: error });
  }
  const token = /Cannot find (\w+) user token policy/.exec(message)?.[1];
  if (token !== undefined) {
    return new ConnectRefusedError(`the server does not accept ${token.toLowerCase()} sessions on the ${server.securityMode}/${server.securityPolicy} endpoint: change identity in the mapping`, { cause: error });
  }
  if (/server Certificate verification failed/.test(message)) {
    return new ConnectRefusedError(
      `the gateway does not trust the server's certificate (${status ?? 'untrusted'}): set security.serverCertificate in the mapping, or move it from ${pki.rejectedFolder} to ${pki.trustedFolder}`,
      { cause: error },
    );
  }
  if (status !== undefined && SERVER_REFUSED_US.test(status)) {
    return new ConnectRefusedError(`the server did not accept the gateway's certificate (${status}): trust ${pki.certificateFile} on the server`, { cause: error });
  }
  if (/Cannot find an Endpoint|endpoint.*(not|no).*(found|match)/i.test(message)) {
    return new ConnectRefusedError(`the server offers no endpoint with security ${server.securityMode}/${server.securityPolicy}: ${message.split('\n')[0]}`, { cause: error });
  }
  if (step === 'connect') {
    return new Error(`cannot connect to ${server.endpointUrl}: ${message.split('\n')[0]?.trim()}`, { cause: error });
  }
  return new Error(`${step === 'session' ? 'creating the session' : 'setting up monitoring'} failed: ${message.split('\n')[0]?.trim()}`, { cause: error });
}

/** Closes what an attempt opened, as far as a dead server lets it; never throws. */
export async function closeQuietly(client: OPCUAClient | undefined, session: ClientSession | undefined, ms: number): Promise<void> {
  if (session !== undefined) await withTimeout(session.close(true), ms, 'closing the session').catch(() => {});
  if (client !== undefined) await withTimeout(client.disconnect(), ms, 'disconnecting').catch(() => {});
}
