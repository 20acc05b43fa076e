import type { FastifyInstance } from 'fastify';
import { DOMAINS, type Domain } from '../../../contracts/metric-catalogue.js';
import { PROFILE_NAME_PATTERN } from '../../../contracts/device-profile.js';
import { DEVICE_ID_PATTERN, telemetryTopic } from '../../../contracts/topics.js';
import {
  deleteDevice, findDevice, insertDevice, lastSeen, listDevices, setDeviceSecret, updateDevice, type Device, type DevicePatch,
} from '../../../storage/devices-store.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../auth/device-secrets.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';

export function deviceJson(device: Device, seen?: Date) {
  return {
    id: device.id,
    domain: device.domain,
    name: device.name,
    disabled: device.disabled,
    createdAt: device.createdAt.toISOString(),
    updatedAt: device.updatedAt.toISOString(),
    profile: device.profile ?? null,
    parent: device.parentId ?? null,
    online: device.online ?? null,
    district: device.district ?? null,
    location: device.location ?? null,
    expectedIntervalS: device.expectedIntervalS ?? null,
    lastSeen: seen?.toISOString() ?? null,
  };
}

// `const`, not `type: 'null'`, and first in each anyOf: the API coerces types (for query
// strings), and coercion would turn 0, "" or false into null — silently clearing a field
// on a malformed patch — or null into 0 for a number branch tried first.
const NULL = { const: null } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;
const DISTRICT = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;

/** Issue 7: per-device reporting interval for offline detection (a year at most: anything slower is not watched). */
const EXPECTED_INTERVAL = {
  type: 'integer', minimum: 1, maximum: 31_536_000,
  description: "How often the device reports, in seconds: offline after this × DEVICE_OFFLINE_FACTOR of silence. Absent: its profile's, else DEVICE_EXPECTED_INTERVAL_S.",
} as const;

const patchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: NAME,
    domain: { type: 'string', enum: [...DOMAINS] },
    district: { anyOf: [NULL, DISTRICT], description: 'Administrative area; null clears it.' },
    location: {
      anyOf: [NULL, {
        type: 'object', required: ['latitude', 'longitude'], additionalProperties: false,
        properties: { latitude: { type: 'number', minimum: -90, maximum: 90 }, longitude: { type: 'number', minimum: -180, maximum: 180 } },
      }],
      description: 'WGS 84 degrees; null clears it.',
    },
    profile: { anyOf: [NULL, { type: 'string', pattern: PROFILE_NAME_PATTERN.source }] },
    disabled: { type: 'boolean', description: 'A disabled device may not connect, and is left out of the city snapshot.' },
    expectedIntervalS: { anyOf: [NULL, EXPECTED_INTERVAL], description: `${EXPECTED_INTERVAL.description} null clears it.` },
  },
} as const;

export const deviceIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN.source } },
} as const;

const createBody = {
  type: 'object',
  required: ['id', 'domain', 'name'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: DEVICE_ID_PATTERN.source, description: 'Letters, digits, ".", "_" and "-"; at most 64.' },
    domain: { type: 'string', enum: [...DOMAINS] },
    // Control characters (U+0000 above all, which PostgreSQL text cannot hold) are refused.
    name: NAME,
    profile: { type: 'string', pattern: PROFILE_NAME_PATTERN.source, description: 'Vendor profile (DEVICE_PROFILES_FILE) its telemetry is decoded with.' },
    expectedIntervalS: EXPECTED_INTERVAL,
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    after: { type: 'string', maxLength: 64, description: 'Return devices whose id sorts after this one (the previous page\'s nextAfter).' },
    domain: { type: 'string', enum: [...DOMAINS] },
    district: { type: 'string', maxLength: 100 },
    disabled: { type: 'boolean' },
  },
} as const;

function checkProfile(context: ApiContext, profile: string | undefined | null): void {
  if (profile === undefined || profile === null || context.profiles?.has(profile) === true) return;
  const known = [...(context.profiles?.keys() ?? [])];
  throw badParameter('body', 'profile', `no vendor profile "${profile}"; ${known.length > 0 ? `known: ${known.join(', ')}` : 'DEVICE_PROFILES_FILE defines none'}`);
}

export async function deviceRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.post('/api/v1/devices', { schema: { body: createBody } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const body = request.body as { id: string; domain: Domain; name: string; profile?: string; expectedIntervalS?: number };
    checkProfile(context, body.profile);
    // The secret exists in clear only in this answer; the database keeps its scrypt hash.
    const password = generateDeviceSecret();
    const device = await insertDevice(context.db, { ...body, secretHash: await hashDeviceSecret(password) });
    if (device === undefined) throw new ProblemError('conflict', 409, `device "${body.id}" exists already`);
    return reply.code(201).header('location', `/api/v1/devices/${device.id}`).send({
      ...deviceJson(device),
      username: device.id,
      password,
      topic: telemetryTopic(device.id),
      // null: that listener is off. tlsPort is mqtts, wssPort MQTT over secure WebSocket at wsPath.
      mqtt: {
        port: context.mqtt.port ?? null, wsPort: context.mqtt.wsPort ?? null, wsPath: '/mqtt',
        tlsPort: context.mqtt.tlsPort ?? null, wssPort: context.mqtt.wssPort ?? null,
      },
    });
  });

  app.get('/api/v1/devices', { schema: { querystring: listQuery } }, async (request) => {
    await context.requireRole(request, 'reader');
    const query = request.query as { limit: number; after?: string; domain?: Domain; district?: string; disabled?: boolean };
    const devices = await listDevices(context.db, { afterId: query.after, limit: query.limit, domain: query.domain, district: query.district, disabled: query.disabled });
    const seen = await lastSeen(context.db, devices.map((device) => device.id));
    const last = devices.at(-1);
    return { devices: devices.map((device) => deviceJson(device, seen.get(device.id))), nextAfter: devices.length === query.limit && last ? last.id : null };
  });

  app.get('/api/v1/devices/:id', { schema: { params: deviceIdParams } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const device = await findDevice(context.db, id);
    if (device === undefined) throw new ProblemError('not_found', 404, `no device "${id}"`);
    return deviceJson(device, (await lastSeen(context.db, [id])).get(id));
  });

  app.patch('/api/v1/devices/:id', { schema: { params: deviceIdParams, body: patchBody } }, async (request) => {
    await context.requireRole(request, 'operator');
    const { id } = request.params as { id: string };
    const patch = request.body as DevicePatch;
    checkProfile(context, patch.profile);
    const device = await updateDevice(context.db, id, patch);
    if (device === undefined) throw new ProblemError('not_found', 404, `no device "${id}"`);
    return deviceJson(device, (await lastSeen(context.db, [id])).get(id));
  });

  app.delete('/api/v1/devices/:id', { schema: { params: deviceIdParams } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const { id } = request.params as { id: string };
    if (!(await deleteDevice(context.db, id))) throw new ProblemError('not_found', 404, `no device "${id}"`);
    return reply.code(204).send();
  });

  // A new secret takes effect at the device's next connection; the old one stops working then.
  app.post('/api/v1/devices/:id/secret', { schema: { params: deviceIdParams } }, async (request) => {
    await context.requireRole(request, 'admin');
    const { id } = request.params as { id: string };
    const password = generateDeviceSecret();
    if (!(await setDeviceSecret(context.db, id, await hashDeviceSecret(password)))) throw new ProblemError('not_found', 404, `no device "${id}"`);
    return { id, username: id, password };
  });
}
