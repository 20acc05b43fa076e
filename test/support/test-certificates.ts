import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommandOrThrow } from '../../runtime/child-process.js';

/** PEM files of a throw-away certificate authority and what it signed, in a temporary folder. */
export interface TestCertificates {
  dir: string;
  /** The CA certificate clients verify the server with. */
  caFile: string;
  ca: Buffer;
  /** Server certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  certFile: string;
  keyFile: string;
  /** A second server certificate for the same names and CA, as after a renewal, and its key. */
  renewed: { certFile: string; keyFile: string };
  /** A key that belongs to no certificate here: a key/certificate mismatch. */
  strayKeyFile: string;
  /** A client certificate signed by the CA, and its key. */
  client: { cert: Buffer; key: Buffer };
  remove(): Promise<void>;
}

// P-256 keys: generated in milliseconds, where RSA keys would take the shared CPU for seconds.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

async function signedBy(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const file = (suffix: string) => path.join(dir, `${name}.${suffix}`);
  await writeFile(file('ext'), extensions);
  await runCommandOrThrow('openssl', ['req', ...NEW_KEY, '-keyout', file('key'), '-out', file('csr'), '-subj', subject]);
  await runCommandOrThrow('openssl', [
    'x509', '-req', '-in', file('csr'), '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-out', file('crt'), '-extfile', file('ext'),
  ]);
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with the openssl CLI. */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(path.join(tmpdir(), 'urbansense-tls-'));
  await runCommandOrThrow('openssl', [
    'req', '-x509', ...NEW_KEY, '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'), '-days', '2',
    '-subj', '/CN=urbansense test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await signedBy(dir, 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await signedBy(dir, 'renewed', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await signedBy(dir, 'client', '/CN=test-device', 'extendedKeyUsage=clientAuth\n');
  await runCommandOrThrow('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path.join(dir, 'stray.key')]);
  return {
    dir,
    caFile: path.join(dir, 'ca.crt'),
    ca: await readFile(path.join(dir, 'ca.crt')),
    certFile: path.join(dir, 'server.crt'),
    keyFile: path.join(dir, 'server.key'),
    renewed: { certFile: path.join(dir, 'renewed.crt'), keyFile: path.join(dir, 'renewed.key') },
    strayKeyFile: path.join(dir, 'stray.key'),
    client: { cert: await readFile(path.join(dir, 'client.crt')), key: await readFile(path.join(dir, 'client.key')) },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
