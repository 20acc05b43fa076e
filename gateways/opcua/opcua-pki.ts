import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';

/**
 * The gateway's PKI folder (node-opcua's layout, as UA Part 12 §F.1 suggests):
 *
 *   own/certs/gateway_certificate.pem   the gateway's certificate — give it to each server to trust
 *   own/private/private_key.pem         its key (mode 0600)
 *   trusted/certs/                      server certificates the gateway trusts
 *   rejected/                           server certificates it met and refused
 *
 * Created on first start with a self-signed certificate (node-opcua-pki makes it with
 * Node's crypto; no openssl binary is needed). Unknown server certificates are never
 * accepted automatically: trust one by moving it from rejected/ to trusted/certs/, or by
 * naming it in the mapping (`security.serverCertificate`).
 */

export interface GatewayPkiOptions {
  /** The PKI folder, created when missing. */
  pkiDir: string;
  /** The application URI in the certificate; a server checks it against the session's. @defaultValue urn:<hostname>:urbansense:opcua-gateway */
  applicationUri?: string;
  /** Validity of a newly made certificate, days. @defaultValue 3650 */
  certificateValidityDays?: number;
}

export interface GatewayPki {
  readonly certificateManager: OPCUACertificateManager;
  readonly pkiDir: string;
  readonly certificateFile: string;
  readonly privateKeyFile: string;
  readonly applicationUri: string;
  readonly trustedFolder: string;
  readonly rejectedFolder: string;
  /** Adds a server certificate file (PEM or DER) to the trusted store; idempotent. */
  trustCertificateFile(file: string): Promise<void>;
  /** Reads the folders again, so certificates an operator moved count from the next connection attempt. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

function derOf(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return match === null ? bytes : Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

export async function openGatewayPki(options: GatewayPkiOptions): Promise<GatewayPki> {
  const pkiDir = path.resolve(options.pkiDir);
  const applicationUri = options.applicationUri ?? `urn:${hostname()}:urbansense:opcua-gateway`;
  const certificateManager = new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false });
  await certificateManager.initialize();
  const certificateFile = path.join(pkiDir, 'own', 'certs', 'gateway_certificate.pem');
  try {
    if (!existsSync(certificateFile)) {
      await certificateManager.createSelfSignedCertificate({
        outputFile: certificateFile,
        applicationUri,
        subject: '/CN=urbansense OPC UA gateway/O=urbansense',
        dns: [hostname(), 'localhost'],
        startDate: new Date(Date.now() - 24 * 3600_000),
        validity: options.certificateValidityDays ?? 3650,
      });
    }
  } catch (error) {
    await certificateManager.dispose();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    certificateManager,
    pkiDir,
    certificateFile,
    privateKeyFile: certificateManager.privateKey,
    applicationUri,
    trustedFolder: certificateManager.trustedFolder,
    rejectedFolder: certificateManager.rejectedFolder,
    async trustCertificateFile(file) {
      const der = derOf(await readFile(file));
      if ((await certificateManager.isCertificateTrusted(der)) !== 'Good') await certificateManager.trustCertificate(der);
    },
    // node-opcua watches the folders, but a certificate both rejected and then copied to
    // trusted/ stays refused in memory until the folders are read again.
    reload: () => certificateManager.reloadCertificates(),
    close() {
      closing ??= certificateManager.dispose();
      return closing;
    },
  };
}
