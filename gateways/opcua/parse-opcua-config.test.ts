import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-schema.js';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { loadOpcuaConfig, parseOpcuaConfig } from './parse-opcua-config.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const context = { catalogue: BUILTIN_CATALOGUE, baseDir: '/etc/urbansense' };

function mapping(server: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    devices: { 'pump-1': { domain: 'water', name: 'Pump 1' } },
    servers: [{ name: 'plant', endpoint: 'opc.tcp://10.0.0.5:4840', nodes: [{ nodeId: 'ns=2;s=Pump1.Flow', device: 'pump-1', metric: 'flow' }], ...server }],
    ...extra,
  };
}

function problemsOf(document: unknown): readonly string[] {
  try {
    parseOpcuaConfig(document, context);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the OPC UA mapping file', () => {
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('ships an example that the gateway accepts: the plant simulator mapping', async () => {
    const config = await loadOpcuaConfig(path.join(REPO, 'config/opcua.example.yaml'), { catalogue: BUILTIN_CATALOGUE });
    const [plant] = config.servers;
    expect(plant).toMatchObject({ name: 'plant', securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', identity: { type: 'username', username: 'operator' } });
    expect(plant?.serverCertificateFile).toBe(path.join(REPO, 'data/plant-pki/own/certs/certificate.pem'));
    expect(plant?.nodes).toHaveLength(25);
    expect(plant?.nodes.find((node) => node.browsePath !== undefined)).toMatchObject({ metric: 'level', deadband: { type: 'absolute', value: 0.005 } });
    expect(plant?.nodes.filter((node) => node.pollIntervalMs === 2000)).toHaveLength(5);
    expect(config.devices.get('substation-feeder-1')).toEqual({ domain: 'grid', name: 'Demo substation 10 kV feeder 1' });
  });

  it('fills in defaults: source timestamps, one default subscription of 1 s, anonymous over None', () => {
    const config = parseOpcuaConfig(mapping(), context);
    expect(config.servers[0]).toMatchObject({
      securityMode: 'None', securityPolicy: 'None', identity: { type: 'anonymous' }, reconnectInitialDelayMs: 500, reconnectMaxDelayMs: 5000,
    });
    expect(config.servers[0]?.nodes[0]).toEqual({
      label: 'ns=2;s=Pump1.Flow', nodeId: 'ns=2;s=Pump1.Flow', device: 'pump-1', metric: 'flow', metricKind: 'gauge',
      subscription: 'default', samplingIntervalMs: 1000, queueSize: 10, timestampSource: 'source',
    });
  });

  it('resolves metric aliases to catalogue keys, and takes a password from a file', () => {
    const config = parseOpcuaConfig(mapping({
      security: { mode: 'Sign', policy: 'Aes256_Sha256_RsaPss' },
      identity: { type: 'username', username: 'op', passwordFile: 'secrets/plant' },
      nodes: [{ browsePath: '/Objects/2:Pump1/2:Flow', device: 'pump-1', metric: 'flow_rate', unit: 'L/s', timestamps: 'server' }],
    }), context);
    expect(config.servers[0]?.identity).toEqual({ type: 'username', username: 'op', passwordFile: '/etc/urbansense/secrets/plant' });
    expect(config.servers[0]?.nodes[0]).toMatchObject({ metric: 'flow', unit: 'L/s', timestampSource: 'server' });
  });

  it('lists every mistake at once, each with its place in the file', () => {
    expect(problemsOf(mapping({
      endpoint: 'http://plant:80',
      security: { mode: 'SignAndEncrypt', policy: 'Basic128Rsa15' },
      samplingInterval: 500,
      nodes: [
        { nodeId: 'ns=2;x=1', device: 'pump-9', metric: 'flux' },
        { nodeId: 'ns=2;s=A', browsePath: '/Objects/2:A', device: 'pump-1', metric: 'pressure', unit: 'gal' },
        { nodeId: 'ns=2;s=B', device: 'pump-1', metric: 'level', subscription: 'fast', queueSize: 0 },
        { nodeId: 'ns=2;s=C', device: 'pump-1', metric: 'flow', pollIntervalMs: 1000, deadband: { type: 'percent', value: 150 } },
      ],
    }))).toEqual([
      'servers[0].endpoint: "http://plant:80" is not an opc.tcp://host:port URL',
      'servers[0].security.policy: must be one of None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, got "Basic128Rsa15"',
      'servers[0].nodes[0].nodeId: "ns=2;x=1" is not a NodeId like ns=1;s=Name, ns=2;i=1234 or nsu=<namespace URI>;s=Name',
      'servers[0].nodes[0].device: "pump-9" is not declared under devices',
      'servers[0].nodes[0].metric: "flux" is not in the metric catalogue',
      'servers[0].nodes[1].nodeId: give exactly one of nodeId and browsePath',
      'servers[0].nodes[1].unit: pressure does not accept "gal"; it takes kPa, MPa, bar, mbar, hPa, Pa, [psi], m[H2O]',
      'servers[0].nodes[2].subscription: "fast" is not one of the server\'s subscriptions',
      'servers[0].nodes[2].queueSize: must be a whole number from 1 to 10000, got 0',
      'servers[0].nodes[3].deadband: a percent deadband is at most 100',
      'servers[0].samplingInterval: unknown option',
    ]);
  });

  it('refuses a password over an unsecured channel, a metric mapped twice, and bad devices', () => {
    expect(problemsOf(mapping({ identity: { type: 'username', username: 'op', password: 'x' } }))).toEqual([
      'servers[0].identity: a username or certificate identity needs security mode Sign or SignAndEncrypt',
    ]);
    const twice = mapping();
    twice.servers.push({ ...twice.servers[0]!, name: 'plant-backup', nodes: [{ nodeId: 'ns=3;s=Flow', device: 'pump-1', metric: 'flow_rate' }] });
    expect(problemsOf(twice)).toEqual(['servers: pump-1/flow is mapped twice: plant ns=2;s=Pump1.Flow and plant-backup ns=3;s=Flow']);
    expect(problemsOf(mapping({ security: { mode: 'None', policy: 'Basic256Sha256' } }))).toEqual([
      'servers[0].security: mode None goes with policy None, and Sign/SignAndEncrypt with a real policy',
    ]);
    expect(problemsOf({ devices: { 'bad id': { domain: 'sky' } }, servers: [] })).toEqual([
      'devices.bad id: a device id is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      'devices.bad id.domain: "sky" is not a domain',
      'servers: list at least one server',
    ]);
  });

  it('names the variable and the file when the file cannot be used, and checks identity files exist', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'opcua-config-'));
    folders.push(folder);
    const file = path.join(folder, 'opcua.yaml');
    await expect(loadOpcuaConfig(file, { catalogue: BUILTIN_CATALOGUE })).rejects.toThrow(`OPCUA_CONFIG_FILE ${file}: cannot be read (ENOENT)`);
    await writeFile(file, 'servers: [\n');
    await expect(loadOpcuaConfig(file, { catalogue: BUILTIN_CATALOGUE })).rejects.toThrow(`OPCUA_CONFIG_FILE ${file}: not valid YAML`);
    await writeFile(file, JSON.stringify(mapping({ security: { mode: 'Sign' }, identity: { type: 'certificate', certificate: 'user.pem', privateKey: 'user.key' } })));
    await expect(loadOpcuaConfig(file, { catalogue: BUILTIN_CATALOGUE })).rejects.toThrow(`OPCUA_CONFIG_FILE ${file}: server plant: ${path.join(folder, 'user.pem')} cannot be read (ENOENT)`);
  });
});
