import { copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawEnvelope } from '../../contracts/envelope.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { OpcuaValuePayload } from '../../contracts/opcua-payload.js';
import { createEnvelopeBatcher } from '../../queue/envelope-batcher.js';
import { findFreePort } from '../../runtime/free-port.js';
import { createPlantServer, type PlantServer } from '../../simulators/opcua/plant-server.js';
import { eventually } from '../../test/support/api-client.js';
import { createTrustedPair, quietNodeOpcua, type TrustedPair } from '../../test/support/opcua-plant.js';
import { createOpcuaGateway, type OpcuaGateway } from './opcua-gateway.js';
import { openGatewayPki } from './opcua-pki.js';
import { parseOpcuaConfig } from './parse-opcua-config.js';

const BAD_SENSOR_FAILURE = 0x808b0000;
const UNCERTAIN_LAST_USABLE_VALUE = 0x40900000;
const PASSWORD = 'plant-secret';

describe('the OPC UA gateway against the plant simulator (SignAndEncrypt, Basic256Sha256, username)', () => {
  let pair: TrustedPair;
  let plant: PlantServer;
  let user: { certificateFile: string; privateKeyFile: string };
  const gateways: OpcuaGateway[] = [];

  beforeAll(async () => {
    await quietNodeOpcua();
    pair = await createTrustedPair();
    // An X.509 user identity: a certificate and key made like the gateway's own, trusted by the server as a user.
    const userPki = await openGatewayPki({ pkiDir: path.join(pair.folder, 'user-pki'), applicationUri: 'urn:urbansense:test-user' });
    user = { certificateFile: userPki.certificateFile, privateKeyFile: userPki.privateKeyFile };
    await userPki.close();
    const userPkiDir = path.join(pair.folder, 'plant-user-pki');
    await mkdir(path.join(userPkiDir, 'trusted', 'certs'), { recursive: true });
    await copyFile(user.certificateFile, path.join(userPkiDir, 'trusted', 'certs', 'test-user.pem'));
    plant = await createPlantServer({
      port: await findFreePort(), pkiDir: pair.plantPkiDir, userPkiDir, users: { operator: PASSWORD }, allowAnonymous: false,
      securityModes: ['SignAndEncrypt'], acceptUnknownClientCertificates: false, updateIntervalMs: 200, sensorLatencyMs: 400,
    });
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    await plant?.close();
    await pair?.remove();
  });

  /** A gateway whose batcher keeps what it would queue; the queue itself is tested elsewhere. */
  async function startGateway(server: Record<string, unknown>, pkiDir = pair.gatewayPkiDir) {
    const config = parseOpcuaConfig({
      devices: { 'plant-outlet': { domain: 'water' }, 'plant-pump-1': { domain: 'water' } },
      servers: [{
        name: 'plant', endpoint: plant.endpointUrl, reconnectInitialDelayMs: 100, reconnectMaxDelayMs: 300,
        security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', serverCertificate: plant.certificateFile },
        identity: { type: 'username', username: 'operator', password: PASSWORD },
        subscriptions: { default: { publishingIntervalMs: 200 } },
        nodes: [
          { nodeId: 'ns=1;s=WaterPlant.Outlet.Turbidity', device: 'plant-outlet', metric: 'turbidity', unit: 'NTU', samplingIntervalMs: 100 },
          { nodeId: 'ns=1;s=WaterPlant.Outlet.ChlorineResidual', device: 'plant-outlet', metric: 'chlorine_residual', samplingIntervalMs: 100 },
          { browsePath: '/Objects/1:WaterPlant/1:Pump1/1:Flow', device: 'plant-pump-1', metric: 'flow', unit: 'm3/h', pollIntervalMs: 300 },
        ],
        ...server,
      }],
    }, { catalogue: BUILTIN_CATALOGUE, baseDir: pair.folder });
    const queued: RawEnvelope[] = [];
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 100, maxWaitMs: 5, maxPayloadChars: 1e6, send: async (envelopes) => void queued.push(...envelopes) });
    const gateway = await createOpcuaGateway({ config, pkiDir, backlogMaxValues: 1000 }, { batcher });
    gateways.push(gateway);
    const payloads = (nodeId: string) => queued.filter((entry) => entry.nodeId === nodeId).map((entry) => JSON.parse(entry.payload) as OpcuaValuePayload);
    return { gateway, queued, payloads };
  }

  it('queues each value exactly as the server sent it: value, DataType, status and source timestamp', async () => {
    const { gateway, payloads } = await startGateway({
      nodes: [
        { nodeId: 'ns=1;s=WaterPlant.Outlet.Pressure', device: 'plant-outlet', metric: 'pressure', unit: 'bar', samplingIntervalMs: 100 },
        { browsePath: '/Objects/1:WaterPlant/1:Pump1/1:Flow', device: 'plant-pump-1', metric: 'flow', unit: 'm3/h', pollIntervalMs: 300 },
        { nodeId: 'ns=1;s=WaterPlant.Pump1.Running', device: 'plant-pump-1', metric: 'pump_running' },
      ],
    });
    const node = 'ns=1;s=WaterPlant.Outlet.Pressure';
    const pressures = await eventually(async () => (payloads(node).length >= 3 ? payloads(node) : undefined), 10_000, 'three pressure values');
    const published = plant.published('WaterPlant.Outlet.Pressure');
    for (const payload of pressures) {
      expect(payload).toMatchObject({ metric: 'pressure', unit: 'bar', dataType: 'Double', status: 0, timestampSource: 'source' });
      // The SourceTimestamp is the instrument's (400 ms before the server published it), untouched.
      expect(published).toContainEqual({ value: payload.value, status: 0, sourceTimeMs: Date.parse(payload.sourceTime!) });
    }
    // Polled by browse path: the same values the server has, each sample once.
    const flows = await eventually(async () => (payloads('ns=1;s=WaterPlant.Pump1.Flow').length >= 2 ? payloads('ns=1;s=WaterPlant.Pump1.Flow') : undefined));
    expect(new Set(flows.map((payload) => payload.sourceTime)).size).toBe(flows.length);
    expect(payloads('ns=1;s=WaterPlant.Pump1.Running')[0]).toMatchObject({ metric: 'pump_running', dataType: 'Boolean', value: expect.any(Boolean) });
    expect(gateway.status()[0]).toMatchObject({ state: 'connected', nodes: { monitored: 2, polled: 1, failed: 0 }, reconnects: 0 });
    await gateway.close();
  });

  it('passes Bad and Uncertain statuses on, and a Bad item keeps its subscription', async () => {
    const { gateway, payloads } = await startGateway({});
    const node = 'ns=1;s=WaterPlant.Outlet.Turbidity';
    await eventually(async () => (payloads(node).length > 0 ? true : undefined));
    plant.setFault('WaterPlant.Outlet.Turbidity', BAD_SENSOR_FAILURE);
    const bad = await eventually(async () => payloads(node).find((payload) => payload.status === BAD_SENSOR_FAILURE), 10_000, 'a Bad value');
    expect(bad).toMatchObject({ value: null, dataType: 'Null' });
    plant.setFault('WaterPlant.Outlet.Turbidity', UNCERTAIN_LAST_USABLE_VALUE, { keepValue: true });
    const uncertain = await eventually(async () => payloads(node).find((payload) => payload.status === UNCERTAIN_LAST_USABLE_VALUE), 10_000, 'an Uncertain value');
    expect(typeof uncertain.value).toBe('number');
    plant.setFault('WaterPlant.Outlet.Turbidity', undefined);
    const healedFrom = payloads(node).length;
    await eventually(async () => (payloads(node).slice(healedFrom).some((payload) => payload.status === 0) ? true : undefined), 10_000, 'good values again');
    expect(gateway.status()[0]).toMatchObject({ state: 'connected', reconnects: 0 });
    await gateway.close();
  });

  it('signs in with an X.509 user certificate the server trusts, and not with one it does not', async () => {
    const { gateway, payloads } = await startGateway({ identity: { type: 'certificate', certificate: user.certificateFile, privateKey: user.privateKeyFile } });
    await eventually(async () => (payloads('ns=1;s=WaterPlant.Outlet.Turbidity').length > 0 ? true : undefined), 10_000, 'values as the X.509 user');
    expect(gateway.status()[0]?.state).toBe('connected');
    await gateway.close();

    const stranger = await openGatewayPki({ pkiDir: path.join(pair.folder, 'stranger-pki'), applicationUri: 'urn:urbansense:stranger' });
    await stranger.close();
    const refused = await startGateway({ identity: { type: 'certificate', certificate: stranger.certificateFile, privateKey: stranger.privateKeyFile } });
    const status = await eventually(async () => (refused.gateway.status()[0]?.state === 'failed' ? refused.gateway.status()[0] : undefined));
    expect(status?.lastError).toMatch(/^the server refused the certificate identity \(Bad\w+\): check the username and password \(or certificate\) in the mapping$/);
    expect(refused.queued).toEqual([]);
    await refused.gateway.close();
  });

  it('reports a wrong password clearly, keeps trying seldom, and never connects with it', async () => {
    const { gateway, queued } = await startGateway({ identity: { type: 'username', username: 'operator', password: 'guess' }, reconnectMaxDelayMs: 5000 });
    const status = await eventually(async () => (gateway.status()[0]?.state === 'failed' ? gateway.status()[0] : undefined));
    expect(status?.lastError).toBe('the server refused user "operator" (BadUserAccessDenied): check the username and password (or certificate) in the mapping');
    expect(queued).toEqual([]);
    await gateway.close();
  });

  it('trusts nobody unasked: both sides refuse unknown certificates with a message saying what to copy where', async () => {
    const freshPki = path.join(pair.folder, 'fresh-gateway-pki');
    const { gateway, payloads } = await startGateway({ security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256' } }, freshPki);
    const untrusted = await eventually(async () => gateway.status()[0]?.lastError?.includes('does not trust') ? gateway.status()[0] : undefined);
    expect(untrusted?.lastError).toBe(
      `the gateway does not trust the server's certificate (BadCertificateUntrusted): set security.serverCertificate in the mapping, or move it from ${freshPki}/rejected to ${freshPki}/trusted/certs`,
    );
    // The operator moves the server certificate from rejected/ to trusted/certs/ …
    const [rejected] = await readdir(path.join(freshPki, 'rejected'));
    await rename(path.join(freshPki, 'rejected', rejected!), path.join(freshPki, 'trusted', 'certs', rejected!));
    // … and the server, which never saw this gateway, refuses it in turn.
    const refused = await eventually(async () => gateway.status()[0]?.lastError?.includes('did not accept') ? gateway.status()[0] : undefined, 15_000);
    expect(refused?.lastError).toBe(`the server did not accept the gateway's certificate (BadSecurityChecksFailed): trust ${gateway.certificateFile} on the server`);
    // … and the server's administrator trusts the gateway's certificate there.
    await plant.trustClientCertificate(gateway.certificateFile);
    await eventually(async () => (payloads('ns=1;s=WaterPlant.Outlet.Turbidity').length > 0 ? true : undefined), 20_000, 'values once both trust each other');
    await gateway.close();
  });
});

describe('the OPC UA gateway against a server with small operation limits', () => {
  let pair: TrustedPair;
  let plant: PlantServer;
  beforeAll(async () => {
    await quietNodeOpcua();
    pair = await createTrustedPair();
    plant = await createPlantServer({
      port: await findFreePort(), pkiDir: pair.plantPkiDir, pumps: 20, feeders: 40, maxOperationsPerRequest: 100, updateIntervalMs: 500, securityModes: ['None'],
    });
  });
  afterAll(async () => {
    await plant?.close();
    await pair?.remove();
  });

  it('checks and monitors a mapping larger than one request may carry, in slices', async () => {
    const devices = Object.fromEntries(plant.points.map((point) => [point.key.split('.').slice(0, -1).join('-').toLowerCase(), { domain: 'water' }]));
    const nodes = plant.points.map((point, index) => ({
      // Every third by browse path, so TranslateBrowsePaths is sliced too.
      ...(index % 3 === 0 ? { browsePath: `/Objects/${point.key.split('.').map((part) => `1:${part}`).join('/')}` } : { nodeId: `ns=1;s=${point.key}` }),
      device: point.key.split('.').slice(0, -1).join('-').toLowerCase(), metric: point.metric, ...(point.unit === undefined ? {} : { unit: point.unit }),
    }));
    expect(nodes.length).toBeGreaterThan(200);
    const config = parseOpcuaConfig({ devices, servers: [{ name: 'big', endpoint: plant.endpointUrl, nodes }] }, { catalogue: BUILTIN_CATALOGUE, baseDir: pair.folder });
    const queued: RawEnvelope[] = [];
    const batcher = createEnvelopeBatcher({ maxEnvelopes: 500, maxWaitMs: 5, maxPayloadChars: 1e7, send: async (envelopes) => void queued.push(...envelopes) });
    const gateway = await createOpcuaGateway({ config, pkiDir: pair.gatewayPkiDir, backlogMaxValues: 10_000 }, { batcher });
    try {
      const status = await eventually(async () => (gateway.status()[0]?.state === 'connected' ? gateway.status()[0] : undefined), 20_000, 'the connection');
      expect(status?.nodes).toEqual({ monitored: nodes.length, polled: 0, failed: 0 });
      // Every node's initial value arrives, the last slice's too.
      await eventually(async () => (new Set(queued.map((entry) => entry.nodeId)).size === nodes.length ? true : undefined), 20_000, 'a value of every node');
    } finally {
      await gateway.close();
    }
  });
});
