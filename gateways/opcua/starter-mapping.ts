import { stringify } from 'yaml';
import type { MetricCatalogue, MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { BrowsedVariable } from './browse-server.js';

/**
 * A first mapping file from a browse: every readable scalar number or Boolean becomes a
 * node entry, its metric guessed from its name (`ActivePower` → active_power) and its unit
 * from the server's EngineeringUnits when the catalogue accepts it. What cannot be
 * guessed is left as a comment to finish by hand; the rest is a file the gateway accepts.
 */

export interface StarterMappingOptions {
  endpointUrl: string;
  securityMode: string;
  securityPolicy: string;
  username?: string;
  /** The server certificate file the browse trusted, if any. */
  serverCertificate?: string;
}

const NUMERIC = new Set(['SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float', 'Double', 'Boolean']);

function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase();
}

function deviceIdOf(parents: readonly string[]): string {
  const id = parents.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1-$2')).join('-').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
  return (id === '' ? 'device' : id).slice(0, 64);
}

function guessMetric(variable: BrowsedVariable, catalogue: MetricCatalogue): MetricDefinition | undefined {
  const definition = catalogue.find(snakeCase(variable.name)) ?? catalogue.find(variable.name);
  if (definition === undefined) return undefined;
  // A Boolean can only be a state; a state read from a number is fine (0/1).
  return variable.dataType === 'Boolean' && definition.kind !== 'state' ? undefined : definition;
}

export function starterMapping(variables: readonly BrowsedVariable[], catalogue: MetricCatalogue, options: StarterMappingOptions): string {
  const lines = [
    `# Starting mapping for ${options.endpointUrl}, written by npm run opcua:browse on ${new Date().toISOString()}.`,
    '# Check the devices (ids, domains, names) and every metric and unit before use; docs/opcua.md explains each key.',
    '#',
    '# Variables found:',
    ...variables.map((variable) => `#   ${variable.browsePath}  ${variable.nodeId}  ${variable.dataType}${variable.valueRank >= 0 ? '[]' : ''}${variable.unit === undefined ? '' : ` [${variable.unit}]`}${variable.value === undefined ? '' : ` = ${variable.value}`}`),
    '',
  ];
  const devices: Record<string, { domain: string; name: string }> = {};
  const nodes: Record<string, unknown>[] = [];
  const leftOut: string[] = [];
  const mapped = new Set<string>();
  for (const variable of variables) {
    const readable = NUMERIC.has(variable.dataType) && variable.valueRank < 0;
    const definition = readable ? guessMetric(variable, catalogue) : undefined;
    const device = deviceIdOf(variable.parents);
    if (definition === undefined || mapped.has(`${device} ${definition.key}`)) {
      const why = !readable ? `${variable.dataType}${variable.valueRank >= 0 ? ' array' : ''}, not a scalar number or Boolean` : definition === undefined ? 'no catalogue metric matches its name' : `${device} has ${definition?.key} already`;
      leftOut.push(`#   - { nodeId: ${variable.nodeId}, device: ${device}, metric: ? }   # ${why}`);
      continue;
    }
    mapped.add(`${device} ${definition.key}`);
    devices[device] ??= { domain: definition.domain, name: variable.parents.join(' ') || device };
    const unitAccepted = variable.unit !== undefined && catalogue.conversion(definition, variable.unit) !== undefined;
    nodes.push({
      nodeId: variable.nodeId, device, metric: definition.key,
      ...(unitAccepted ? { unit: variable.unit } : {}),
    });
    if (variable.unit !== undefined && !unitAccepted) leftOut.push(`#   ${variable.nodeId}: the server says "${variable.unit}", which ${definition.key} does not accept; add the right unit`);
  }
  const security = options.securityMode === 'None' ? undefined : {
    mode: options.securityMode, policy: options.securityPolicy, ...(options.serverCertificate === undefined ? {} : { serverCertificate: options.serverCertificate }),
  };
  const identity = options.username === undefined ? undefined : { type: 'username', username: options.username, passwordFile: 'password.txt' };
  if (security !== undefined && options.serverCertificate === undefined) lines.push('# TODO: trust the server: add security.serverCertificate: <its certificate file>, or move it from the PKI\'s rejected/ to trusted/certs/.');
  if (identity !== undefined) lines.push('# TODO: put the password in password.txt next to this file (or replace passwordFile with password).');
  if (security !== undefined || identity !== undefined) lines.push('');
  lines.push(stringify({
    devices,
    servers: [{
      name: 'server-1', endpoint: options.endpointUrl,
      ...(security === undefined ? {} : { security }), ...(identity === undefined ? {} : { identity }),
      timestamps: 'source', subscriptions: { default: { publishingIntervalMs: 1000 } }, nodes,
    }],
  }, { lineWidth: 0 }));
  if (leftOut.length > 0) lines.push('# Not mapped (finish by hand):', ...leftOut, '');
  return lines.join('\n');
}
