import path from 'node:path';
import { describeStorageMode, storageModeOf } from '../storage/migration.js';
import type { Stack } from './stack.js';

function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** What a person needs after start: where things are and how to get in. */
export function formatBanner(stack: Stack): string {
  const host = hostForUrl(stack.config.listenHost);
  const lines = ['', `urbansense is running (roles: ${stack.config.roles.join(', ')})`];
  const scheme = stack.config.apiTls ? 'https' : 'http';
  if (stack.api !== undefined) lines.push(`  API        ${scheme}://${host}:${stack.api.port}/api/v1   (health: /readyz)`);
  if (stack.gateway !== undefined) {
    const { port, wsPort, tlsPort, wssPort } = stack.gateway;
    const plain = [port === 0 ? undefined : `mqtt://${host}:${port}`, wsPort === undefined ? undefined : `ws://${host}:${wsPort}/mqtt`];
    const secure = [tlsPort === undefined ? undefined : `mqtts://${host}:${tlsPort}`, wssPort === undefined ? undefined : `wss://${host}:${wssPort}/mqtt`];
    if (plain.some(Boolean)) lines.push(`  MQTT       ${plain.filter(Boolean).join('   ')}`);
    if (secure.some(Boolean)) lines.push(`  MQTT TLS   ${secure.filter(Boolean).join('   ')}`);
  }
  if (stack.opcua !== undefined) {
    const servers = stack.opcua.status().map((server) => `${server.name} ${server.endpointUrl}`).join(', ');
    lines.push(`  OPC UA     ${servers}   (gateway certificate: ${stack.opcua.certificateFile})`);
  } else if (stack.config.roles.includes('opcua')) {
    lines.push('  OPC UA     off: set OPCUA_CONFIG_FILE to a mapping (docs/opcua.md)');
  }
  const database = stack.db.kind === 'pglite'
    ? `embedded PGlite in ${path.join(stack.config.dataDir, 'pglite')}`
    : 'PostgreSQL from DATABASE_URL';
  const mode = describeStorageMode(storageModeOf(stack.db.kind, stack.storage.capabilities), stack.storage.capabilities);
  lines.push(`  database   ${database}`, `  storage    ${mode}`);
  lines.push(`  redis      ${stack.redis.local ? `local redis-server, data in ${path.join(stack.config.dataDir, 'redis')}` : 'from REDIS_URL'}`);
  const key = stack.adminKey;
  if (key?.kind === 'generated') {
    lines.push(`  admin key  ${key.token}`);
    lines.push(`             (generated now and shown once; also saved in ${key.file}, mode 0600)`);
  } else if (key?.kind === 'file') {
    lines.push(`  admin key  in ${key.file}`);
  } else if (key?.kind === 'environment') {
    lines.push('  admin key  API_ADMIN_KEY');
  } else if (key?.kind === 'database') {
    lines.push('  admin key  an admin key exists in the database; set API_ADMIN_KEY to add one for this process');
  }
  lines.push('  stop       Ctrl-C', '');
  return lines.join('\n');
}
