/**
 * Remembers the MQTT secrets of registered devices in a small JSON file, so a second run
 * of a fleet reuses them: the API shows a secret only once and answers 409 when the
 * device exists, so without this file a re-run could never connect.
 */

import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What a device needs to connect to the broker. */
export interface DeviceCredentials {
  /** MQTT username; the device id. */
  username: string;
  /** MQTT password; the secret issued at registration. */
  password: string;
}

interface CredentialsFileV1 {
  version: 1;
  devices: Record<string, DeviceCredentials>;
}

export interface CredentialsStore {
  readonly file: string;
  get(deviceId: string): DeviceCredentials | undefined;
  /** Records new credentials and schedules a write; await {@link flush} to know it landed. */
  set(deviceId: string, credentials: DeviceCredentials): void;
  /** Resolves when everything `set` so far is on disk. */
  flush(): Promise<void>;
}

function isCredentials(value: unknown): value is DeviceCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.username === 'string' && typeof record.password === 'string';
}

async function readCredentialsFile(file: string): Promise<Map<string, DeviceCredentials>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new Error(`cannot read credentials file ${file}: ${(error as Error).message}`, { cause: error });
  }
  // A file we cannot understand is never overwritten: it may hold the only copy of secrets.
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`credentials file ${file} is not valid JSON (${(error as Error).message}); fix or move it`, { cause: error });
  }
  const devices = (document as Partial<CredentialsFileV1> | null)?.devices;
  if ((document as Partial<CredentialsFileV1> | null)?.version !== 1 || typeof devices !== 'object' || devices === null) {
    throw new Error(`credentials file ${file} is not a version 1 credentials file ({"version": 1, "devices": {…}}); fix or move it`);
  }
  const entries = new Map<string, DeviceCredentials>();
  for (const [deviceId, credentials] of Object.entries(devices)) {
    if (!isCredentials(credentials)) throw new Error(`credentials file ${file}: entry "${deviceId}" needs string "username" and "password"`);
    entries.set(deviceId, { username: credentials.username, password: credentials.password });
  }
  return entries;
}

/**
 * Writes to a temporary file then renames it over the old one, so a crash mid-write
 * leaves the previous file intact. The temporary file is created 0600: the secrets are
 * never readable by other users, not even for a moment.
 */
async function writeCredentialsFile(file: string, entries: ReadonlyMap<string, DeviceCredentials>): Promise<void> {
  const document: CredentialsFileV1 = { version: 1, devices: Object.fromEntries([...entries].sort(([a], [b]) => a.localeCompare(b))) };
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600); // the umask may have narrowed it further, never widened; make it exact
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new Error(`cannot write credentials file ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Opens (or starts) the credentials file at `file`; the file is created on the first `set`. */
export async function openCredentialsStore(file: string): Promise<CredentialsStore> {
  const entries = await readCredentialsFile(file);
  let written: Promise<void> = Promise.resolve();
  let dirty = false;

  // Writes are serialised and coalesced: many registrations in a burst cost one or two writes.
  function scheduleWrite(): void {
    if (dirty) return;
    dirty = true;
    written = written
      .catch(() => undefined)
      .then(() => {
        dirty = false;
        return writeCredentialsFile(file, new Map(entries));
      });
    // Marks a failed write as handled here; flush() still hands the failure to its caller.
    written.catch(() => undefined);
  }

  return {
    file,
    get: (deviceId) => entries.get(deviceId),
    set(deviceId, credentials) {
      entries.set(deviceId, { username: credentials.username, password: credentials.password });
      scheduleWrite();
    },
    flush: () => written,
  };
}
