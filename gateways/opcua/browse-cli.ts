#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { browseVariables } from './browse-server.js';
import { routeNodeOpcuaLogs } from './node-opcua-logs.js';
import { OPCUA_DEFAULTS, SECURITY_MODES, SECURITY_POLICIES, type OpcuaServerConfig } from './opcua-config.js';
import { openGatewayPki } from './opcua-pki.js';
import { closeQuietly, createClient, explainFailure, identityOf, withTimeout } from './session-steps.js';
import { starterMapping } from './starter-mapping.js';

const USAGE = `usage: npm run opcua:browse -- <opc.tcp://host:port> [options] > mapping.yaml

Lists the server's variables and prints a starting mapping file (docs/opcua.md).
  --security <mode>        None, Sign or SignAndEncrypt (default None)
  --policy <policy>        ${SECURITY_POLICIES.filter((policy) => policy !== 'None').join(', ')} (default Basic256Sha256)
  --user <name>            username identity; the password comes from OPCUA_PASSWORD
  --server-certificate <f> trust this server certificate (PEM or DER)
  --pki <dir>              the gateway's PKI folder (default OPCUA_PKI_DIR or ./data/opcua-pki)
  --root <browse path>     where to start (default /Objects)
  --depth <n>              levels to descend (default 6)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      security: { type: 'string', default: 'None' }, policy: { type: 'string' }, user: { type: 'string' },
      'server-certificate': { type: 'string' }, pki: { type: 'string' }, root: { type: 'string', default: '/Objects' },
      depth: { type: 'string', default: '6' }, help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help === true) fail(USAGE);
const endpointUrl = positionals[0];
if (endpointUrl === undefined || !endpointUrl.startsWith('opc.tcp://')) fail(USAGE);
const securityMode = SECURITY_MODES.find((mode) => mode.toLowerCase() === values.security.toLowerCase()) ?? fail(`--security must be one of ${SECURITY_MODES.join(', ')}`);
const securityPolicy = securityMode === 'None' ? 'None' : (SECURITY_POLICIES.find((policy) => policy.toLowerCase() === (values.policy ?? 'Basic256Sha256').toLowerCase()) ?? fail(`--policy must be one of ${SECURITY_POLICIES.join(', ')}`));
const depth = Number(values.depth);
if (!Number.isInteger(depth) || depth < 1 || depth > 20) fail('--depth must be a whole number from 1 to 20');
if (values.user !== undefined && process.env.OPCUA_PASSWORD === undefined) fail('--user needs the password in the OPCUA_PASSWORD environment variable');

// node-opcua's console chatter goes to stderr: stdout is the mapping file.
routeNodeOpcuaLogs((level, message) => level === 'error' && process.stderr.write(`[node-opcua] ${message}\n`));
const server: OpcuaServerConfig = {
  name: 'browse', endpointUrl, securityMode, securityPolicy, subscriptions: new Map(), nodes: [],
  identity: values.user === undefined ? { type: 'anonymous' } : { type: 'username', username: values.user, password: process.env.OPCUA_PASSWORD ?? '' },
  ...(values['server-certificate'] === undefined ? {} : { serverCertificateFile: values['server-certificate'] }),
  reconnectInitialDelayMs: OPCUA_DEFAULTS.reconnectInitialDelayMs, reconnectMaxDelayMs: OPCUA_DEFAULTS.reconnectMaxDelayMs,
  watchdogKeepAlives: OPCUA_DEFAULTS.watchdogKeepAlives, sessionTimeoutMs: OPCUA_DEFAULTS.sessionTimeoutMs, requestTimeoutMs: OPCUA_DEFAULTS.requestTimeoutMs,
};
const pki = await openGatewayPki({ pkiDir: values.pki ?? process.env.OPCUA_PKI_DIR ?? './data/opcua-pki' });
if (server.serverCertificateFile !== undefined) await pki.trustCertificateFile(server.serverCertificateFile);
const client = createClient(server, pki);
let step: 'connect' | 'session' | 'monitor' = 'connect';
let session;
let code = 0;
try {
  await withTimeout(client.connect(endpointUrl), server.requestTimeoutMs, 'connecting');
  step = 'session';
  session = await withTimeout(client.createSession(await identityOf(server)), server.requestTimeoutMs, 'creating the session');
  step = 'monitor';
  const variables = await browseVariables(session, { root: values.root, maxDepth: depth, maxVariables: 2000 });
  process.stderr.write(`${variables.length} variables below ${values.root}\n`);
  process.stdout.write(starterMapping(variables, BUILTIN_CATALOGUE, {
    endpointUrl, securityMode, securityPolicy, ...(values.user === undefined ? {} : { username: values.user }),
    ...(values['server-certificate'] === undefined ? {} : { serverCertificate: path.resolve(values['server-certificate']) }),
  }));
} catch (error) {
  process.stderr.write(`${explainFailure(error, server, pki, step).message}\n`);
  code = 1;
} finally {
  await closeQuietly(client, session, 2000);
  await pki.close();
}
process.exit(code);
