import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/logger.js';
import { verifyDeviceSecret } from '../../services/auth/device-secrets.js';
import { hashApiSecret, parseApiKey } from '../../services/auth/api-keys.js';
import { api, registerDevice, type RegisteredDevice } from '../support/api-client.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/*
 * The whole stack with the production logger at debug level, writing into memory:
 * through registration, key creation, secret rotation, failed logins and refusals,
 * the stored rows hold only hashes, every refusal is logged with its reason, client id,
 * device and address, and no secret appears anywhere in the log.
 */
describe('secrets: stored hashed, never logged', () => {
  let env: TestStack;
  const lines: string[] = [];
  const log = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  let device: RegisteredDevice;
  let other: RegisteredDevice;
  let readerKey: string;
  let rotatedSecret: string;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    env = await startTestStack({ logger: createLogger('debug', sink), env: { LOG_LEVEL: 'debug' } });
    device = await registerDevice(env.apiUrl, env.adminKey, { id: `sec-${randomUUID().slice(0, 8)}`, domain: 'water' });
    other = await registerDevice(env.apiUrl, env.adminKey, { id: `sec-${randomUUID().slice(0, 8)}`, domain: 'water' });
    readerKey = (await api<{ key: string }>(env.apiUrl, 'POST', '/api/v1/api-keys', { key: env.adminKey, body: { role: 'reader', name: 'logs' } })).body.key;
    rotatedSecret = (await api<{ password: string }>(env.apiUrl, 'POST', `/api/v1/devices/${other.id}/secret`, { key: env.adminKey })).body.password;
    expect(rotatedSecret).toEqual(expect.any(String));

    const connect = (username: string, password: string, clientId?: string) =>
      mqtt.connectAsync(env.mqttUrl, { username, password, reconnectPeriod: 0, ...(clientId === undefined ? {} : { clientId }) });
    // Failed logins that carry real secrets: one device's secret under another's name, and near misses.
    await expect(connect(other.id, device.password)).rejects.toMatchObject({ code: 4 });
    await expect(connect(device.id, `${device.password}x`)).rejects.toMatchObject({ code: 4 });
    await expect(connect(device.id, other.password)).rejects.toMatchObject({ code: 4 }); // the secret before rotation
    // Refusals of an authenticated device: another device's topic, and another device's client id.
    const holder = await connect(other.id, rotatedSecret, other.id);
    await expect(connect(device.id, device.password, other.id)).rejects.toMatchObject({ code: 2 });
    const client = await connect(device.id, device.password, device.id);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(other.topic, '{"metrics":{"flow":1}}', { qos: 1 });
    await closed;
    client.end(true);
    await holder.endAsync();
    // API calls with wrong keys, and a key in the Authorization header of a successful call.
    for (const key of [`${env.adminKey}x`, `${readerKey}x`, readerKey.slice(0, -2)]) expect((await api(env.apiUrl, 'GET', '/api/v1/devices', { key })).status).toBe(401);
    expect((await api(env.apiUrl, 'GET', '/api/v1/devices', { key: readerKey })).status).toBe(200);
  });
  afterAll(async () => env?.remove());

  it('stores the device secret as a scrypt hash and the API key as the SHA-256 of its secret part', async () => {
    const rows = await env.stack.db.query<{ id: string; secret_hash: string }>('SELECT id, secret_hash FROM devices WHERE id = ANY($1)', [[device.id, other.id]]);
    const hashOf = new Map(rows.rows.map((row) => [row.id, row.secret_hash]));
    expect(hashOf.get(device.id)).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyDeviceSecret(device.password, hashOf.get(device.id) ?? '')).toBe(true);
    // Rotation replaced the hash: the old secret no longer matches.
    expect(await verifyDeviceSecret(rotatedSecret, hashOf.get(other.id) ?? '')).toBe(true);
    expect(await verifyDeviceSecret(other.password, hashOf.get(other.id) ?? '')).toBe(false);

    const parsed = parseApiKey(readerKey);
    const key = await env.stack.db.query<{ secret_hash: string }>('SELECT secret_hash FROM api_keys WHERE id = $1', [parsed?.id]);
    expect(key.rows[0]?.secret_hash).toBe(hashApiSecret(parsed?.secret ?? ''));
    const everything = JSON.stringify((await env.stack.db.query('SELECT * FROM api_keys')).rows) + JSON.stringify((await env.stack.db.query('SELECT * FROM devices')).rows);
    for (const secret of [device.password, other.password, rotatedSecret, readerKey, parsed?.secret ?? '', env.adminKey]) expect(everything).not.toContain(secret);
  });

  it('logs each MQTT refusal with its reason, client id, device and address', () => {
    const refusals = log().filter((line) => line.component === 'mqtt' && typeof line.reason === 'string');
    expect(refusals).toContainEqual(expect.objectContaining({ reason: 'bad_credentials', deviceId: other.id, address: '127.0.0.1', clientId: expect.any(String), msg: 'refused: bad_credentials' }));
    expect(refusals).toContainEqual(expect.objectContaining({ reason: 'client_id_taken', clientId: other.id, deviceId: device.id, detail: expect.stringContaining(other.id) }));
    expect(refusals).toContainEqual(expect.objectContaining({ reason: 'topic_not_allowed', clientId: device.id, deviceId: device.id, detail: `publish to "${other.topic}"` }));
    expect(refusals.filter((line) => line.reason === 'bad_credentials')).toHaveLength(3);
  });

  it('never writes a device secret, an API key or the admin key to the log', () => {
    expect(lines.length).toBeGreaterThan(10);
    const text = lines.join('\n');
    const parsed = parseApiKey(readerKey);
    for (const [what, secret] of [
      ['device secret', device.password], ['device secret (rotated away)', other.password], ['rotated device secret', rotatedSecret],
      ['API key', readerKey], ['API key secret part', parsed?.secret ?? '<none>'], ['admin key', env.adminKey],
    ] as const) {
      expect(text.includes(secret), `${what} in the log`).toBe(false);
    }
  });
});
