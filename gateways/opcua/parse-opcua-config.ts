import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeBrowsePath, resolveNodeId } from 'node-opcua';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../config/config-schema.js';
import { isDomain, type MetricCatalogue } from '../../contracts/metric-catalogue.js';
import { TIMESTAMP_SOURCES, type TimestampSource } from '../../contracts/opcua-payload.js';
import { isValidDeviceId } from '../../contracts/topics.js';
import {
  OPCUA_DEFAULTS, SECURITY_MODES, SECURITY_POLICIES, type OpcuaDeviceDeclaration, type OpcuaGatewayConfig, type OpcuaIdentity,
  type OpcuaNodeMapping, type OpcuaServerConfig, type OpcuaSubscriptionSettings, type SecurityModeName, type SecurityPolicyName,
} from './opcua-config.js';
import { createReader, type Reader } from './config-reader.js';

/**
 * Reads and checks the mapping file at start: every problem is listed at once, each
 * with its place in the file (`servers[0].nodes[3].metric: …`), and nothing connects
 * until the whole file is right. Relative file paths are relative to the mapping file.
 */

export interface OpcuaConfigContext {
  catalogue: MetricCatalogue;
  /** Folder relative paths are resolved against. */
  baseDir: string;
}

const EXPANDED_NODE_ID = /^nsu=[^;]+;(i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$/;

function checkNodeId(text: string): string | undefined {
  if (EXPANDED_NODE_ID.test(text)) return undefined;
  try {
    resolveNodeId(text);
    return undefined;
  } catch {
    return `"${text.slice(0, 80)}" is not a NodeId like ns=1;s=Name, ns=2;i=1234 or nsu=<namespace URI>;s=Name`;
  }
}

function checkBrowsePath(text: string): string | undefined {
  try {
    if (makeBrowsePath('RootFolder', text).relativePath.elements?.length) return undefined;
  } catch {
    // reported below
  }
  return `"${text.slice(0, 80)}" is not a browse path like /Objects/1:Plant/1:Pump1/1:Flow`;
}

function readIdentity(reader: Reader, context: OpcuaConfigContext): OpcuaIdentity {
  const type = reader.oneOf('type', ['anonymous', 'username', 'certificate'] as const, 'anonymous');
  if (type === 'username') {
    const username = reader.text('username');
    const password = reader.optionalText('password');
    const passwordFile = reader.optionalFile('passwordFile', context.baseDir);
    if ((password === undefined) === (passwordFile === undefined)) reader.problem('password', 'give exactly one of password and passwordFile');
    return passwordFile === undefined ? { type, username, password: password ?? '' } : { type, username, passwordFile };
  }
  if (type === 'certificate') {
    return { type, certificateFile: reader.file('certificate', context.baseDir), privateKeyFile: reader.file('privateKey', context.baseDir) };
  }
  return { type: 'anonymous' };
}

function readNode(reader: Reader, server: { subscriptions: ReadonlyMap<string, OpcuaSubscriptionSettings>; timestampSource: TimestampSource }, context: OpcuaConfigContext, devices: ReadonlyMap<string, unknown>): OpcuaNodeMapping {
  const nodeId = reader.optionalText('nodeId');
  const browsePath = reader.optionalText('browsePath');
  if ((nodeId === undefined) === (browsePath === undefined)) reader.problem('nodeId', 'give exactly one of nodeId and browsePath');
  if (nodeId !== undefined) reader.check('nodeId', checkNodeId(nodeId));
  if (browsePath !== undefined) reader.check('browsePath', checkBrowsePath(browsePath));

  const device = reader.text('device');
  if (device !== '' && !devices.has(device)) reader.problem('device', `"${device}" is not declared under devices`);
  const metricName = reader.text('metric');
  const definition = metricName === '' ? undefined : context.catalogue.find(metricName);
  if (metricName !== '' && definition === undefined) reader.problem('metric', `"${metricName}" is not in the metric catalogue`);
  const unit = reader.optionalText('unit');
  if (unit !== undefined && definition !== undefined && context.catalogue.conversion(definition, unit) === undefined) {
    reader.problem('unit', `${definition.key} does not accept "${unit}"; it takes ${[definition.unit, ...definition.units.map((u) => u.unit)].join(', ')}`);
  }

  const pollIntervalMs = reader.optionalInteger('pollIntervalMs', 100, 86_400_000);
  const subscription = reader.optionalText('subscription');
  if (pollIntervalMs !== undefined && subscription !== undefined) reader.problem('pollIntervalMs', 'a node is either polled or in a subscription, not both');
  const subscriptionName = pollIntervalMs === undefined ? (subscription ?? OPCUA_DEFAULTS.subscription) : undefined;
  const settings = subscriptionName === undefined ? undefined : server.subscriptions.get(subscriptionName);
  if (subscriptionName !== undefined && settings === undefined) reader.problem('subscription', `"${subscriptionName}" is not one of the server's subscriptions`);

  const deadbandReader = reader.optionalObject('deadband');
  const deadband = deadbandReader === undefined ? undefined : {
    type: deadbandReader.oneOf('type', ['absolute', 'percent'] as const, 'absolute'),
    value: deadbandReader.number('value', 0, Number.MAX_VALUE),
  };
  if (deadband?.type === 'percent' && deadband.value > 100) reader.problem('deadband', 'a percent deadband is at most 100');
  return {
    label: nodeId ?? browsePath ?? '',
    ...(nodeId === undefined ? {} : { nodeId }),
    ...(browsePath === undefined ? {} : { browsePath }),
    device,
    metric: definition?.key ?? metricName,
    metricKind: definition?.kind ?? 'gauge',
    ...(unit === undefined ? {} : { unit }),
    ...(subscriptionName === undefined ? {} : { subscription: subscriptionName }),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    samplingIntervalMs: reader.integer('samplingIntervalMs', 0, 86_400_000, settings?.publishingIntervalMs ?? pollIntervalMs ?? OPCUA_DEFAULTS.publishingIntervalMs),
    queueSize: reader.integer('queueSize', 1, 10_000, OPCUA_DEFAULTS.queueSize),
    ...(deadband === undefined ? {} : { deadband }),
    timestampSource: reader.oneOf('timestamps', TIMESTAMP_SOURCES, server.timestampSource),
  };
}

function readServer(reader: Reader, context: OpcuaConfigContext, devices: ReadonlyMap<string, unknown>): OpcuaServerConfig {
  const name = reader.text('name');
  const endpointUrl = reader.text('endpoint');
  if (endpointUrl !== '' && !/^opc\.tcp:\/\/[^/\s]+(:\d+)?(\/\S*)?$/.test(endpointUrl)) reader.problem('endpoint', `"${endpointUrl}" is not an opc.tcp://host:port URL`);
  const security = reader.optionalObject('security');
  const securityMode: SecurityModeName = security?.oneOf('mode', SECURITY_MODES, 'None') ?? 'None';
  const securityPolicy: SecurityPolicyName = security?.oneOf('policy', SECURITY_POLICIES, securityMode === 'None' ? 'None' : 'Basic256Sha256') ?? 'None';
  if ((securityMode === 'None') !== (securityPolicy === 'None')) reader.problem('security', 'mode None goes with policy None, and Sign/SignAndEncrypt with a real policy');
  const serverCertificateFile = security?.optionalFile('serverCertificate', context.baseDir);
  const identityReader = reader.optionalObject('identity');
  const identity = identityReader === undefined ? { type: 'anonymous' as const } : readIdentity(identityReader, context);
  if (identity.type !== 'anonymous' && securityMode === 'None') {
    // Over an unsecured channel a password travels readable unless the server encrypts the token itself.
    reader.problem('identity', 'a username or certificate identity needs security mode Sign or SignAndEncrypt');
  }
  const timestampSource = reader.oneOf('timestamps', TIMESTAMP_SOURCES, 'source');

  const subscriptions = new Map<string, OpcuaSubscriptionSettings>();
  const subscriptionsReader = reader.optionalObject('subscriptions');
  for (const key of subscriptionsReader?.keys() ?? []) {
    const entry = subscriptionsReader!.object(key);
    subscriptions.set(key, {
      publishingIntervalMs: entry.integer('publishingIntervalMs', 10, 3_600_000, OPCUA_DEFAULTS.publishingIntervalMs),
      maxKeepAliveCount: entry.integer('maxKeepAliveCount', 1, 1000, OPCUA_DEFAULTS.maxKeepAliveCount),
    });
  }
  if (!subscriptions.has(OPCUA_DEFAULTS.subscription)) {
    subscriptions.set(OPCUA_DEFAULTS.subscription, { publishingIntervalMs: OPCUA_DEFAULTS.publishingIntervalMs, maxKeepAliveCount: OPCUA_DEFAULTS.maxKeepAliveCount });
  }
  const nodes = reader.list('nodes', (node) => readNode(node, { subscriptions, timestampSource }, context, devices));
  if (nodes.length === 0) reader.problem('nodes', 'list at least one node');
  const initial = reader.integer('reconnectInitialDelayMs', 10, 600_000, OPCUA_DEFAULTS.reconnectInitialDelayMs);
  return {
    name, endpointUrl, securityMode, securityPolicy, identity, subscriptions, nodes,
    ...(serverCertificateFile === undefined ? {} : { serverCertificateFile }),
    reconnectInitialDelayMs: initial,
    reconnectMaxDelayMs: reader.integer('reconnectMaxDelayMs', initial, 3_600_000, Math.max(initial, OPCUA_DEFAULTS.reconnectMaxDelayMs)),
    watchdogKeepAlives: reader.integer('watchdogKeepAlives', 1, 100, OPCUA_DEFAULTS.watchdogKeepAlives),
    sessionTimeoutMs: reader.integer('sessionTimeoutMs', 1000, 3_600_000, OPCUA_DEFAULTS.sessionTimeoutMs),
    requestTimeoutMs: reader.integer('requestTimeoutMs', 100, 600_000, OPCUA_DEFAULTS.requestTimeoutMs),
  };
}

/** Checks a mapping document (already parsed from YAML or JSON). */
export function parseOpcuaConfig(document: unknown, context: OpcuaConfigContext): OpcuaGatewayConfig {
  const { reader, problems, finish } = createReader(document);
  const devices = new Map<string, OpcuaDeviceDeclaration>();
  const devicesReader = reader.object('devices');
  for (const id of devicesReader.keys()) {
    if (!isValidDeviceId(id)) devicesReader.problem(id, 'a device id is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    const entry = devicesReader.object(id);
    const domain = entry.text('domain');
    if (domain !== '' && !isDomain(domain)) entry.problem('domain', `"${domain}" is not a domain`);
    devices.set(id, { domain: isDomain(domain) ? domain : 'water', name: entry.optionalText('name') ?? id });
  }
  const servers = reader.list('servers', (server) => readServer(server, context, devices));
  if (servers.length === 0) reader.problem('servers', 'list at least one server');
  const names = servers.map((server) => server.name);
  for (const name of new Set(names.filter((name, index) => names.indexOf(name) !== index))) reader.problem('servers', `two servers are named "${name}"`);
  const mapped = new Map<string, string>();
  for (const server of servers) {
    for (const node of server.nodes) {
      const key = `${node.device} ${node.metric}`;
      const other = mapped.get(key);
      // Two nodes on one (device, metric) would overwrite each other's readings at equal times.
      if (other !== undefined) reader.problem('servers', `${node.device}/${node.metric} is mapped twice: ${other} and ${server.name} ${node.label}`);
      mapped.set(key, `${server.name} ${node.label}`);
    }
  }
  finish();
  if (problems.length > 0) throw new ConfigError(problems);
  return { devices, servers };
}

/** Reads OPCUA_CONFIG_FILE: YAML or JSON, then {@link parseOpcuaConfig}; problems name the variable and file. */
export async function loadOpcuaConfig(file: string, context: Omit<OpcuaConfigContext, 'baseDir'>): Promise<OpcuaGatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`OPCUA_CONFIG_FILE ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  let document: unknown;
  try {
    // JSON is YAML too.
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`OPCUA_CONFIG_FILE ${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  let config: OpcuaGatewayConfig;
  try {
    config = parseOpcuaConfig(document, { ...context, baseDir: path.dirname(path.resolve(file)) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(error.problems.map((problem) => `OPCUA_CONFIG_FILE ${file}: ${problem}`));
  }
  // Identity files are read at every connection (so they can be rotated); they must exist now.
  const problems: string[] = [];
  for (const server of config.servers) {
    const identity = server.identity;
    const files = identity.type === 'certificate' ? [identity.certificateFile, identity.privateKeyFile] : identity.type === 'username' && 'passwordFile' in identity ? [identity.passwordFile] : [];
    for (const needed of files) {
      await access(needed, constants.R_OK).catch((error: NodeJS.ErrnoException) => problems.push(`OPCUA_CONFIG_FILE ${file}: server ${server.name}: ${needed} cannot be read (${error.code ?? error.message})`));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
