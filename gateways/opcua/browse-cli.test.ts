import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { findFreePort } from '../../runtime/free-port.js';
import { createPlantServer, type PlantServer } from '../../simulators/opcua/plant-server.js';
import { quietNodeOpcua } from '../../test/support/opcua-plant.js';
import { parseOpcuaConfig } from './parse-opcua-config.js';

const REPO = path.resolve(import.meta.dirname, '../..');

/** `npm run opcua:browse -- …` as a person runs it: stdout (the mapping) and stderr kept apart. */
function browse(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateways/opcua/browse-cli.ts', ...args], {
      cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run opcua:browse', () => {
  let folder: string;
  let plant: PlantServer;
  beforeAll(async () => {
    await quietNodeOpcua();
    folder = await mkdtemp(path.join(tmpdir(), 'opcua-browse-'));
    plant = await createPlantServer({ port: await findFreePort(), pkiDir: path.join(folder, 'plant-pki'), users: { operator: 'browse-secret' }, allowAnonymous: true, acceptUnknownClientCertificates: true });
  });
  afterAll(async () => {
    await plant?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('lists the variables and prints a starting mapping that the gateway accepts', async () => {
    const result = await browse([plant.endpointUrl, '--pki', path.join(folder, 'browse-pki')]);
    expect(result.stderr).toContain('26 variables below /Objects');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('#   /Objects/1:WaterPlant/1:Pump1/1:Flow  ns=1;s=WaterPlant.Pump1.Flow  Double [m3/h]');
    expect(result.stdout).toContain('#   - { nodeId: ns=1;s=WaterPlant.Name, device: water-plant, metric: ? }   # String, not a scalar number or Boolean');
    const config = parseOpcuaConfig(parse(result.stdout), { catalogue: BUILTIN_CATALOGUE, baseDir: folder });
    const nodes = config.servers[0]!.nodes;
    expect(nodes.find((node) => node.nodeId === 'ns=1;s=WaterPlant.Outlet.Pressure')).toMatchObject({ device: 'water-plant-outlet', metric: 'pressure', unit: 'bar' });
    expect(nodes.find((node) => node.nodeId === 'ns=1;s=Substation.Feeder2.BreakerClosed')).toMatchObject({ device: 'substation-feeder2', metric: 'breaker_closed' });
    expect(config.devices.get('substation-feeder2')?.domain).toBe('grid');
    expect(nodes).toHaveLength(22);
  });

  it('browses over SignAndEncrypt as a user, and says clearly when it cannot connect', async () => {
    const secure = await browse([
      plant.endpointUrl, '--security', 'SignAndEncrypt', '--user', 'operator', '--server-certificate', plant.certificateFile,
      '--pki', path.join(folder, 'browse-pki'), '--root', '/Objects/1:Substation', '--depth', '2',
    ], { OPCUA_PASSWORD: 'browse-secret' });
    expect(secure.stderr).toContain('15 variables below /Objects/1:Substation');
    expect(parse(secure.stdout).servers[0]).toMatchObject({ security: { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', serverCertificate: plant.certificateFile } });

    const port = await findFreePort();
    const refused = await browse([`opc.tcp://127.0.0.1:${port}`, '--pki', path.join(folder, 'browse-pki')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot connect to opc.tcp://127.0.0.1:${port}`);
    expect(refused.stdout).toBe('');
  });
});
