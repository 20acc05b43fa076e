import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from './config-schema.js';

/**
 * The certificate, key and client CA files the TLS listeners use (TLS_CERT_FILE,
 * TLS_KEY_FILE, MQTT_TLS_CLIENT_CA_FILE), read and checked once at start: a missing or
 * unreadable file, a file that is not PEM, or a key that does not belong to the
 * certificate stops the process with every problem listed, each naming its variable.
 */
export interface TlsFiles {
  /** TLS_CERT_FILE: the server certificate, then its chain. */
  cert: Buffer;
  /** TLS_KEY_FILE. */
  key: Buffer;
  /** MQTT_TLS_CLIENT_CA_FILE: the CAs a device's client certificate must chain to; `undefined`: none asked for. */
  clientCa: Buffer | undefined;
  /** The server certificate (the first one in TLS_CERT_FILE). */
  certificate: X509Certificate;
}

/** A certificate this close to its end gets a warning at every start. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;

type TlsConfig = Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'mqttTlsClientCaFile'>;

async function readPem(variable: string, file: string, problems: string[]): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    problems.push(`${variable} ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
}

function parsed<T>(problems: string[], problem: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    problems.push(`${problem} (${(error as Error).message})`);
    return undefined;
  }
}

/** `undefined` when TLS_CERT_FILE is unset: the stack then runs no TLS listener. */
export async function loadTlsFiles(config: TlsConfig): Promise<TlsFiles | undefined> {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  const problems: string[] = [];
  const certFile = config.tlsCertFile;
  const keyFile = config.tlsKeyFile;
  const cert = await readPem('TLS_CERT_FILE', certFile, problems);
  const key = await readPem('TLS_KEY_FILE', keyFile, problems);
  const clientCaFile = config.mqttTlsClientCaFile;
  const clientCa = clientCaFile === undefined ? undefined : await readPem('MQTT_TLS_CLIENT_CA_FILE', clientCaFile, problems);

  const certificate = cert && parsed(problems, `TLS_CERT_FILE ${certFile}: not a PEM certificate`, () => new X509Certificate(cert));
  const privateKey: KeyObject | undefined = key && parsed(problems, `TLS_KEY_FILE ${keyFile}: not a PEM private key without passphrase`, () => createPrivateKey(key));
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push(`TLS_KEY_FILE ${keyFile}: does not belong to the certificate in TLS_CERT_FILE ${certFile} (subject ${certificate.subject.replaceAll('\n', ', ')})`);
  }
  if (clientCa !== undefined) parsed(problems, `MQTT_TLS_CLIENT_CA_FILE ${clientCaFile}: not a PEM certificate`, () => new X509Certificate(clientCa));
  if (problems.length > 0) throw new ConfigError(problems);

  // What node:tls itself accepts (e.g. a broken certificate later in the chain) is the final word.
  parsed(problems, `TLS_CERT_FILE ${certFile}: refused by node:tls`, () => createSecureContext({ cert, key, ...(clientCa === undefined ? {} : { ca: clientCa }) }));
  if (problems.length > 0) throw new ConfigError(problems);
  return { cert: cert!, key: key!, clientCa, certificate: certificate! };
}

/**
 * An expired (or not yet valid) certificate is a warning, not a refusal: TLS clients
 * refuse it themselves, while stopping the process would also stop the plain listeners
 * and the rest of the pipeline until someone renews it.
 */
export function tlsWarnings(certificate: Pick<X509Certificate, 'validFrom' | 'validTo'>, now = new Date()): string[] {
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (now > validTo) return [`TLS_CERT_FILE: the certificate expired on ${validTo.toISOString()}; TLS clients refuse to connect until it is replaced`];
  if (now < validFrom) return [`TLS_CERT_FILE: the certificate is valid only from ${validFrom.toISOString()}; TLS clients refuse it until then`];
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  const left = daysLeft === 0 ? 'less than a day' : `${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
  if (daysLeft < EXPIRY_WARNING_DAYS) return [`TLS_CERT_FILE: the certificate expires on ${validTo.toISOString()}, in ${left}`];
  return [];
}
