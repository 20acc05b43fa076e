import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findFreePort } from '../../runtime/free-port.js';
import { createPlantServer, type PlantServer } from '../../simulators/opcua/plant-server.js';
import { api, eventually } from '../support/api-client.js';
import { createTrustedPair, quietNodeOpcua, type TrustedPair } from '../support/opcua-plant.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const PASSWORD = 'plant-operator-secret';
const BAD_SENSOR_FAILURE = 0x808b0000;

interface Reading { time: string; metric: string; value: number; quality: string; sourceQuality?: number }
interface ServerReport { name: string; state: string; lastError?: string; nodes: Record<string, number>; failedNodes: { node: string; reason: string }[] }

/**
 * The whole path for OPC UA: plant simulator (SignAndEncrypt, Basic256Sha256, username)
 * → gateway in the stack's opcua role → queue → worker → database → API.
 */
describe('OPC UA values end to end, from the plant simulator to the API', () => {
  let pair: TrustedPair;
  let plant: PlantServer;
  let env: TestStack;

  beforeAll(async () => {
    await quietNodeOpcua();
    pair = await createTrustedPair();
    plant = await createPlantServer({
      port: await findFreePort(), pkiDir: pair.plantPkiDir, users: { operator: PASSWORD }, allowAnonymous: false,
      securityModes: ['SignAndEncrypt'], acceptUnknownClientCertificates: false, updateIntervalMs: 250,
    });
    const secure = { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', serverCertificate: plant.certificateFile };
    const mapping = {
      devices: {
        'plant-pump-1': { domain: 'water', name: 'Pump 1' },
        'plant-outlet': { domain: 'water', name: 'Outlet main' },
        'substation-feeder-1': { domain: 'grid', name: 'Feeder 1' },
        'plant-pump-9': { domain: 'water', name: 'A pump the plant does not have' },
        'plant-shadow': { domain: 'water', name: 'Mapped with a wrong password' },
      },
      servers: [
        {
          name: 'plant', endpoint: plant.endpointUrl, security: secure, identity: { type: 'username', username: 'operator', password: PASSWORD },
          subscriptions: { default: { publishingIntervalMs: 250 } },
          nodes: [
            { nodeId: 'ns=1;s=WaterPlant.Pump1.Flow', device: 'plant-pump-1', metric: 'flow', unit: 'm3/h', samplingIntervalMs: 100 },
            { nodeId: 'ns=1;s=WaterPlant.Pump1.Running', device: 'plant-pump-1', metric: 'pump_running' },
            { nodeId: 'ns=1;s=WaterPlant.Outlet.Pressure', device: 'plant-outlet', metric: 'pressure', unit: 'bar', samplingIntervalMs: 100 },
            { nodeId: 'ns=1;s=WaterPlant.Outlet.Turbidity', device: 'plant-outlet', metric: 'turbidity', unit: 'NTU' },
            { browsePath: '/Objects/1:Substation/1:Feeder1/1:Voltage', device: 'substation-feeder-1', metric: 'voltage', unit: 'kV', pollIntervalMs: 500 },
            { nodeId: 'ns=1;s=WaterPlant.Pump9.Flow', device: 'plant-pump-9', metric: 'flow', unit: 'm3/h' },
          ],
        },
        {
          name: 'plant-wrong-password', endpoint: plant.endpointUrl, security: secure, identity: { type: 'username', username: 'operator', password: 'guessed' },
          nodes: [{ nodeId: 'ns=1;s=WaterPlant.Reservoir.Level', device: 'plant-shadow', metric: 'level' }],
        },
      ],
    };
    const mappingFile = path.join(pair.folder, 'opcua.yaml');
    await writeFile(mappingFile, stringify(mapping));
    env = await startTestStack({ env: { OPCUA_CONFIG_FILE: mappingFile, OPCUA_PKI_DIR: pair.gatewayPkiDir } });
  });
  afterAll(async () => {
    await env?.remove();
    await plant?.close();
    await pair?.remove();
  });

  const readings = async (device: string, metric: string): Promise<Reading[]> => {
    const answer = await api<{ readings: Reading[] }>(env.apiUrl, 'GET', `/api/v1/devices/${device}/readings?metric=${metric}&limit=1000`, { key: env.adminKey });
    expect(answer.status).toBe(200);
    return answer.body.readings;
  };
  const servers = async (): Promise<ServerReport[]> => {
    const answer = await api<{ checks: { opcua: { status: string; servers: ServerReport[] } } }>(env.apiUrl, 'GET', '/readyz');
    return answer.body.checks.opcua.servers;
  };

  it('stores values at their source timestamps, in catalogue units, with the status code as source quality', async () => {
    const pressure = await eventually(async () => {
      const rows = await readings('plant-outlet', 'pressure');
      return rows.length >= 3 ? rows : undefined;
    }, 20_000, 'three pressure readings');
    const published = plant.published('WaterPlant.Outlet.Pressure');
    for (const row of pressure) {
      // The time is the instrument's SourceTimestamp, the value converted from bar to kPa.
      const sample = published.find((candidate) => candidate.sourceTimeMs === Date.parse(row.time));
      expect(sample, `a sample published at ${row.time}`).toBeDefined();
      expect(row.value).toBeCloseTo((sample!.value as number) * 100, 9);
      expect(row).toMatchObject({ quality: 'good', sourceQuality: 0 });
    }
    const running = await eventually(async () => (await readings('plant-pump-1', 'pump_running'))[0]);
    expect([0, 1]).toContain(running.value);
    const voltage = await eventually(async () => (await readings('substation-feeder-1', 'voltage'))[0], 10_000, 'a polled voltage');
    expect(voltage.value).toBeGreaterThan(9000);
  });

  it('quarantines a Bad status without a value with its reason, stores Bad values with quality bad, and keeps the node subscribed', async () => {
    await eventually(async () => ((await readings('plant-outlet', 'turbidity')).length > 0 ? true : undefined), 20_000, 'turbidity');
    plant.setFault('WaterPlant.Outlet.Turbidity', BAD_SENSOR_FAILURE);
    const entry = await eventually(async () => {
      const answer = await api<{ entries: { reason: string; message: string; payload: string }[] }>(
        env.apiUrl, 'GET', '/api/v1/quarantine?device=plant-outlet&reason=value_not_number', { key: env.adminKey },
      );
      return answer.body.entries[0];
    }, 20_000, 'the quarantined Bad value');
    expect(entry.message).toBe('turbidity from ns=1;s=WaterPlant.Outlet.Turbidity: the server sent status 0x808B0000 (bad) and no value; nothing can be stored for it');
    expect(JSON.parse(entry.payload)).toMatchObject({ status: BAD_SENSOR_FAILURE, value: null, dataType: 'Null' });

    plant.setFault('WaterPlant.Outlet.Turbidity', BAD_SENSOR_FAILURE, { keepValue: true });
    const bad = await eventually(async () => (await readings('plant-outlet', 'turbidity')).find((row) => row.quality === 'bad'), 20_000, 'a bad reading');
    expect(bad.sourceQuality).toBe(BAD_SENSOR_FAILURE | 0);
    plant.setFault('WaterPlant.Outlet.Turbidity', undefined);
    await eventually(async () => {
      const rows = await readings('plant-outlet', 'turbidity');
      return rows.some((row) => row.quality === 'good' && Date.parse(row.time) > Date.parse(bad.time)) ? true : undefined;
    }, 20_000, 'good turbidity after the fault');
    expect((await servers())[0]).toMatchObject({ state: 'connected' });
  });

  it('reports a NodeId the server does not have, and the other nodes keep flowing', async () => {
    const [plantServer] = await eventually(async () => {
      const reports = await servers();
      return reports[0]?.state === 'connected' ? reports : undefined;
    });
    expect(plantServer?.nodes).toEqual({ monitored: 4, polled: 1, failed: 1 });
    expect(plantServer?.failedNodes).toEqual([{
      node: 'ns=1;s=WaterPlant.Pump9.Flow', device: 'plant-pump-9', metric: 'flow',
      reason: 'ns=1;s=WaterPlant.Pump9.Flow does not exist on the server (BadNodeIdUnknown)',
    }]);
    expect(await readings('plant-pump-9', 'flow')).toEqual([]);
    const before = (await readings('plant-pump-1', 'flow')).length;
    await eventually(async () => ((await readings('plant-pump-1', 'flow')).length > before ? true : undefined), 20_000, 'more flow readings');
  });

  it('shows a wrong password as a failed server with a clear error, without disturbing the other server', async () => {
    const wrong = await eventually(async () => (await servers()).find((server) => server.name === 'plant-wrong-password' && server.state === 'failed'));
    expect(wrong.lastError).toBe('the server refused user "operator" (BadUserAccessDenied): check the username and password (or certificate) in the mapping');
    expect(await readings('plant-shadow', 'level')).toEqual([]);
    expect((await servers())[0]?.state).toBe('connected');
  });
});
