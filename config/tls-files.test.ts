import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommandOrThrow } from '../runtime/child-process.js';
import { createTestCertificates, type TestCertificates } from '../test/support/test-certificates.js';
import { ConfigError, parseConfig } from './config-schema.js';
import { loadTlsFiles, tlsWarnings } from './tls-files.js';

function problemsOf(work: () => unknown): readonly string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

async function loadProblems(config: Parameters<typeof loadTlsFiles>[0]): Promise<readonly string[]> {
  const error: unknown = await loadTlsFiles(config).then(() => undefined, (caught: unknown) => caught);
  if (error === undefined) return [];
  if (error instanceof ConfigError) return error.problems;
  throw error;
}

describe('TLS variables in parseConfig', () => {
  it('turns HTTPS on with a certificate unless API_TLS says off, and lets MQTT_PORT=off turn plain TCP off', () => {
    expect(parseConfig({}).apiTls).toBe(false);
    expect(parseConfig({ TLS_CERT_FILE: 'server.crt', TLS_KEY_FILE: 'server.key' })).toMatchObject({ apiTls: true, mqttTlsPort: 8883, mqttWssPort: 8084 });
    expect(parseConfig({ TLS_CERT_FILE: 'server.crt', TLS_KEY_FILE: 'server.key', API_TLS: 'off' }).apiTls).toBe(false);
    expect(parseConfig({ MQTT_PORT: 'off' })).toMatchObject({ mqttPort: undefined, mqttWsPort: 8083 });
    expect(parseConfig({ MQTT_PORT: 'OFF', MQTT_WS_PORT: '0', TLS_CERT_FILE: 'server.crt', TLS_KEY_FILE: 'server.key' }).mqttPort).toBeUndefined();
  });

  it.each([
    [{ TLS_CERT_FILE: 'server.crt' }, 'TLS_CERT_FILE needs TLS_KEY_FILE, its private key'],
    [{ TLS_KEY_FILE: 'server.key' }, 'TLS_KEY_FILE needs TLS_CERT_FILE, the certificate it belongs to'],
    [{ API_TLS: 'on' }, 'API_TLS=on needs TLS_CERT_FILE and TLS_KEY_FILE'],
    [{ API_TLS: 'maybe' }, 'API_TLS must be on or off, got "maybe"'],
    [{ MQTT_TLS_CLIENT_CA_FILE: 'ca.crt' }, 'MQTT_TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates are checked on the TLS listeners'],
    [{ MQTT_TLS_PORT: '70000' }, 'MQTT_TLS_PORT must be between 0 and 65535, got 70000'],
    [{ MQTT_PORT: 'off', MQTT_WS_PORT: '0' }, 'MQTT_PORT=off leaves the broker no listener: set MQTT_WS_PORT, or TLS_CERT_FILE with MQTT_TLS_PORT or MQTT_WSS_PORT'],
    [{ MQTT_PORT: 'off', MQTT_WS_PORT: '0', TLS_CERT_FILE: 'a', TLS_KEY_FILE: 'b', MQTT_TLS_PORT: '0', MQTT_WSS_PORT: '0' }, 'MQTT_PORT=off leaves the broker no listener: set MQTT_WS_PORT, or TLS_CERT_FILE with MQTT_TLS_PORT or MQTT_WSS_PORT'],
  ])('stops on %o with a message naming the variable', (env, message) => {
    expect(problemsOf(() => parseConfig(env))).toEqual([message]);
  });

  it('lets an api-only process set MQTT_PORT=off, as it only tells devices the ports', () => {
    expect(problemsOf(() => parseConfig({ ROLES: 'api', MQTT_PORT: 'off', MQTT_WS_PORT: '0' }))).toEqual([]);
  });
});

describe('loadTlsFiles', () => {
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await createTestCertificates();
  });
  afterAll(async () => certs?.remove());

  const files = (extra: { tlsCertFile?: string; tlsKeyFile?: string; mqttTlsClientCaFile?: string } = {}) => ({
    tlsCertFile: certs.certFile, tlsKeyFile: certs.keyFile, mqttTlsClientCaFile: undefined, ...extra,
  });

  it('is undefined without TLS_CERT_FILE, and reads a certificate with its key', async () => {
    expect(await loadTlsFiles({ tlsCertFile: undefined, tlsKeyFile: undefined, mqttTlsClientCaFile: undefined })).toBeUndefined();
    const loaded = await loadTlsFiles(files({ mqttTlsClientCaFile: certs.caFile }));
    expect(loaded?.certificate.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(loaded?.clientCa?.equals(certs.ca)).toBe(true);
  });

  it('names every unreadable file at once', async () => {
    const missing = (name: string) => path.join(certs.dir, name);
    expect(await loadProblems({ tlsCertFile: missing('no.crt'), tlsKeyFile: missing('no.key'), mqttTlsClientCaFile: missing('no-ca.crt') })).toEqual([
      `TLS_CERT_FILE ${missing('no.crt')}: cannot be read (ENOENT)`,
      `TLS_KEY_FILE ${missing('no.key')}: cannot be read (ENOENT)`,
      `MQTT_TLS_CLIENT_CA_FILE ${missing('no-ca.crt')}: cannot be read (ENOENT)`,
    ]);
  });

  it('refuses files that are not PEM certificates or keys', async () => {
    const garbage = path.join(certs.dir, 'garbage.pem');
    await writeFile(garbage, 'not a certificate\n');
    expect(await loadProblems(files({ tlsCertFile: garbage }))).toEqual([expect.stringMatching(`^TLS_CERT_FILE ${garbage}: not a PEM certificate \\(`)]);
    // A certificate where the key belongs: a common mix-up of the two variables.
    expect(await loadProblems(files({ tlsKeyFile: certs.certFile }))).toEqual([expect.stringMatching(`^TLS_KEY_FILE ${certs.certFile}: not a PEM private key without passphrase \\(`)]);
    expect(await loadProblems(files({ mqttTlsClientCaFile: garbage }))).toEqual([expect.stringMatching(`^MQTT_TLS_CLIENT_CA_FILE ${garbage}: not a PEM certificate \\(`)]);
  });

  it('refuses a passphrase-protected key, which the stack cannot unlock', async () => {
    const encrypted = path.join(certs.dir, 'encrypted.key');
    await runCommandOrThrow('openssl', ['pkey', '-in', certs.keyFile, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
    expect(await loadProblems(files({ tlsKeyFile: encrypted }))).toEqual([expect.stringMatching(`^TLS_KEY_FILE ${encrypted}: not a PEM private key without passphrase \\(`)]);
  });

  it('refuses a key that belongs to another certificate', async () => {
    expect(await loadProblems(files({ tlsKeyFile: certs.strayKeyFile }))).toEqual([
      `TLS_KEY_FILE ${certs.strayKeyFile}: does not belong to the certificate in TLS_CERT_FILE ${certs.certFile} (subject CN=localhost)`,
    ]);
  });

  it('warns about an expired, not yet valid or soon expiring certificate', async () => {
    const { certificate } = (await loadTlsFiles(files()))!;
    const validTo = new Date(certificate.validTo);
    const validFrom = new Date(certificate.validFrom);
    expect(tlsWarnings(certificate, new Date(validTo.getTime() + 1000))).toEqual([
      `TLS_CERT_FILE: the certificate expired on ${validTo.toISOString()}; TLS clients refuse to connect until it is replaced`,
    ]);
    expect(tlsWarnings(certificate, new Date(validFrom.getTime() - 1000))).toEqual([
      `TLS_CERT_FILE: the certificate is valid only from ${validFrom.toISOString()}; TLS clients refuse it until then`,
    ]);
    // The test certificate lives two days.
    expect(tlsWarnings(certificate, validFrom)).toEqual([`TLS_CERT_FILE: the certificate expires on ${validTo.toISOString()}, in 2 days`]);
    expect(tlsWarnings(certificate, new Date(validTo.getTime() - 3_600_000))).toEqual([`TLS_CERT_FILE: the certificate expires on ${validTo.toISOString()}, in less than a day`]);
  });

  it('stays quiet about a certificate with more than two weeks left', () => {
    const longLived = { validFrom: 'Jan  1 00:00:00 2026 GMT', validTo: 'Jan  1 00:00:00 2027 GMT' };
    expect(tlsWarnings(longLived, new Date('2026-06-01T00:00:00Z'))).toEqual([]);
  });
});
