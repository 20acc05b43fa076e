/**
 * Getting MQTT credentials for planned devices: supplied by the caller, registered over
 * the API (`POST /api/v1/devices`, 201 with a one-time secret), or, when the API says the
 * device exists (409), taken from the credentials file of an earlier run.
 */

import type { PlannedDevice } from './fleet-plan.js';
import type { CredentialsStore, DeviceCredentials } from './credentials-store.js';

export interface RegistrationOptions {
  /** API base URL, e.g. `http://127.0.0.1:3000`. */
  apiUrl: string;
  /** Admin API key, sent as `Authorization: Bearer …`. */
  adminKey: string;
  /** Per-request limit. */
  timeoutMs: number;
}

/** Credentials a caller hands in; the username defaults to the device id. */
export interface SuppliedCredentials {
  username?: string;
  password: string;
}

export interface CredentialSources {
  /** Credentials the caller already has, by device id; used as they are. */
  supplied?: Readonly<Record<string, SuppliedCredentials>>;
  /** When set, devices without supplied credentials are registered over the API. */
  registration?: RegistrationOptions;
  store?: CredentialsStore;
  /** Registrations in flight at once. */
  concurrency: number;
}

/** How the credentials of one device were obtained. */
export type CredentialOrigin = 'supplied' | 'registered' | 'credentials-file';

export interface ResolvedCredentials extends DeviceCredentials {
  origin: CredentialOrigin;
}

async function problemDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as { title?: unknown; detail?: unknown };
    const parts = [problem.title, problem.detail].filter((part): part is string => typeof part === 'string');
    if (parts.length > 0) return parts.join(': ');
  } catch {
    // Not JSON: a proxy's HTML page or plain text; show its start.
  }
  return text.slice(0, 200) || response.statusText;
}

async function register(device: PlannedDevice, options: RegistrationOptions): Promise<DeviceCredentials | 'exists'> {
  const url = new URL('/api/v1/devices', options.apiUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.adminKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ id: device.id, domain: device.domain, name: device.name }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`cannot register device ${device.id}: POST ${url.href} failed (${reason}); is the API running?`, { cause: error });
  }
  if (response.status === 409) {
    await response.body?.cancel();
    return 'exists';
  }
  if (response.status === 401 || response.status === 403) {
    throw new Error(
      `cannot register device ${device.id}: the API refused the admin key (${response.status} ${await problemDetail(response)}); ` +
        'check API_KEY / adminKey',
    );
  }
  if (response.status !== 201) {
    throw new Error(`cannot register device ${device.id}: POST ${url.href} answered ${response.status}: ${await problemDetail(response)}`);
  }
  const body = (await response.json()) as { username?: unknown; password?: unknown };
  if (typeof body.password !== 'string') {
    throw new Error(`cannot register device ${device.id}: the API answered 201 without a "password" in the body`);
  }
  return { username: typeof body.username === 'string' ? body.username : device.id, password: body.password };
}

async function resolveOne(device: PlannedDevice, sources: CredentialSources): Promise<ResolvedCredentials> {
  const supplied = sources.supplied?.[device.id];
  if (supplied !== undefined) return { username: supplied.username ?? device.id, password: supplied.password, origin: 'supplied' };
  const remembered = sources.store?.get(device.id);
  if (sources.registration === undefined) {
    if (remembered !== undefined) return { ...remembered, origin: 'credentials-file' };
    throw new Error(
      `no credentials for device ${device.id}: supply them in "credentials", or give apiUrl and adminKey so the fleet registers it`,
    );
  }
  // Register first even when the file knows the device: after a database reset the file's
  // secret is stale, and registering again issues a fresh one.
  const outcome = await register(device, sources.registration);
  if (outcome !== 'exists') {
    sources.store?.set(device.id, outcome);
    return { ...outcome, origin: 'registered' };
  }
  if (remembered !== undefined) return { ...remembered, origin: 'credentials-file' };
  const where = sources.store === undefined ? 'no credentialsFile was given' : `${sources.store.file} has no entry for it`;
  throw new Error(
    `device ${device.id} is already registered (409) and its secret is unknown (${where}). ` +
      'Use the credentials file of the run that registered it, delete the device through the API, or choose another id prefix (SIM_ID_PREFIX / idPrefix).',
  );
}

/**
 * Credentials for every device, in plan order. Secrets obtained before a failure are
 * still written to the store: the API would not show them again.
 */
export async function resolveCredentials(
  devices: readonly PlannedDevice[],
  sources: CredentialSources,
): Promise<Map<string, ResolvedCredentials>> {
  const resolved = new Map<string, ResolvedCredentials>();
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < devices.length) {
      const device = devices[next++] as PlannedDevice;
      try {
        resolved.set(device.id, await resolveOne(device, sources));
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(sources.concurrency, devices.length)) }, worker));
  await sources.store?.flush();
  if (failure !== undefined) throw failure;
  return new Map(devices.flatMap((device) => {
    const credentials = resolved.get(device.id);
    return credentials === undefined ? [] : [[device.id, credentials] as const];
  }));
}
