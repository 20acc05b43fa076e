import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { OpcuaGatewayEvents } from '../../gateways/opcua/opcua-gateway.js';
import { findFreePort } from '../../runtime/free-port.js';
import { api, eventually } from '../support/api-client.js';
import { createTrustedPair, quietNodeOpcua, startPlantProcess, type PlantProcess, type TrustedPair } from '../support/opcua-plant.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

type Lost = OpcuaGatewayEvents['lost'][0];
type Connected = OpcuaGatewayEvents['connected'][0];

/**
 * The plant simulator runs as its own process, and dies the way servers die: SIGKILL
 * (a crash or a power cut: no goodbye on the wire) and SIGSTOP (a hung server: the TCP
 * connection stays up, nothing answers). The gateway must find out and resume by itself.
 */
describe('the OPC UA gateway survives its server', () => {
  let pair: TrustedPair;
  let plant: PlantProcess;
  let plantEnv: Record<string, string>;
  let env: TestStack;
  const lost: Array<Lost & { atMs: number }> = [];
  const connected: Array<Connected & { atMs: number }> = [];

  beforeAll(async () => {
    await quietNodeOpcua();
    pair = await createTrustedPair();
    const port = await findFreePort();
    plantEnv = {
      PLANT_PORT: String(port), PLANT_PKI_DIR: pair.plantPkiDir, PLANT_USERS: 'operator:restart-secret', PLANT_ALLOW_ANONYMOUS: 'false',
      PLANT_SECURITY_MODES: 'SignAndEncrypt', PLANT_ACCEPT_UNKNOWN_CLIENTS: 'false', PLANT_UPDATE_MS: '250',
    };
    plant = await startPlantProcess(plantEnv);
    const mappingFile = path.join(pair.folder, 'opcua.yaml');
    await writeFile(mappingFile, stringify({
      devices: { 'plant-outlet': { domain: 'water' } },
      servers: [{
        // One keep-alive period of silence is enough here; node-opcua's own request timeout (10 s) comes later.
        name: 'plant', endpoint: `opc.tcp://127.0.0.1:${port}`, watchdogKeepAlives: 1,
        security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', serverCertificate: pair.plantCertificateFile },
        identity: { type: 'username', username: 'operator', password: 'restart-secret' },
        subscriptions: { default: { publishingIntervalMs: 250 } },
        nodes: [{ nodeId: 'ns=1;s=WaterPlant.Outlet.Pressure', device: 'plant-outlet', metric: 'pressure', unit: 'bar', samplingIntervalMs: 100 }],
      }],
    }));
    env = await startTestStack({ env: { OPCUA_CONFIG_FILE: mappingFile, OPCUA_PKI_DIR: pair.gatewayPkiDir } });
    env.stack.opcua!.events.on('lost', (info) => lost.push({ ...info, atMs: Date.now() }));
    env.stack.opcua!.events.on('connected', (info) => connected.push({ ...info, atMs: Date.now() }));
  });
  afterAll(async () => {
    await env?.remove();
    await plant?.server.stop('SIGKILL', 5000);
    await pair?.remove();
  });

  /** Pressure readings stored with a source time after `afterMs`. */
  async function storedAfter(afterMs: number): Promise<number> {
    const answer = await api<{ readings: { time: string }[] }>(
      env.apiUrl, 'GET', `/api/v1/devices/plant-outlet/readings?metric=pressure&from=${new Date(afterMs).toISOString()}&limit=1000`, { key: env.adminKey },
    );
    return answer.body.readings.length;
  }

  // The measured times are test annotations: npx vitest run test/e2e/opcua-restart.test.ts --reporter=verbose
  it('resumes by itself after the server process is killed and started again, and the values after the restart arrive', async ({ annotate }) => {
    await eventually(async () => ((await storedAfter(Date.now() - 60_000)) >= 3 ? true : undefined), 30_000, 'readings before the kill');
    const killedAtMs = Date.now();
    await plant.server.stop('SIGKILL', 5000);
    await eventually(async () => (lost.length > 0 ? true : undefined), 10_000, 'the gateway to notice');
    // A restarted server is a new process on the same port, with the same PKI folder.
    const spawnedAtMs = Date.now();
    plant = await startPlantProcess(plantEnv);
    const back = await eventually(async () => connected.find((info) => info.downtimeMs !== undefined), 60_000, 'the reconnection');
    await eventually(async () => ((await storedAfter(spawnedAtMs)) >= 3 ? true : undefined), 30_000, 'readings from the restarted server');
    const storedAtMs = Date.now();

    expect(lost[0]?.reason).toMatch(/connection (lost|closed)/);
    expect(env.stack.opcua!.status()[0]).toMatchObject({ state: 'connected', reconnects: 1, nodes: { monitored: 1, failed: 0 } });
    // Measured, not asserted: the speed depends on the machine and on the backoff.
    await annotate(`noticed ${lost[0]!.atMs - killedAtMs} ms after SIGKILL; server restart took ${plant.readyAtMs - spawnedAtMs} ms; ` +
      `gateway monitoring again ${back.atMs - plant.readyAtMs} ms after the server accepted connections (${back.attempts} attempts, ` +
      `downtime ${back.downtimeMs} ms); new values stored (3 readings, polled via API) ${storedAtMs - plant.readyAtMs} ms after the server was back`);
  });

  it('notices a server that stops answering (SIGSTOP) with its watchdog, and resumes when it answers again', async ({ annotate }) => {
    lost.length = 0;
    connected.length = 0;
    process.kill(plant.server.pid, 'SIGSTOP');
    const stoppedAtMs = Date.now();
    try {
      await eventually(async () => (lost.length > 0 ? true : undefined), 20_000, 'the watchdog');
      expect(lost[0]?.reason).toMatch(/^watchdog: nothing from the server for \d+ ms/);
      expect(env.stack.opcua!.status()[0]?.state).toBe('reconnecting');
    } finally {
      process.kill(plant.server.pid, 'SIGCONT');
    }
    const resumedAtMs = Date.now();
    const back = await eventually(async () => connected[0], 60_000, 'the reconnection');
    await eventually(async () => ((await storedAfter(resumedAtMs)) >= 1 ? true : undefined), 30_000, 'readings after SIGCONT');
    await annotate(`noticed ${lost[0]!.atMs - stoppedAtMs} ms after SIGSTOP; monitoring again ${back.atMs - resumedAtMs} ms after SIGCONT`);
  });
});
