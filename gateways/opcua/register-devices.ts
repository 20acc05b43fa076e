import type { Queryable } from '../../storage/database.js';
import { insertDevice } from '../../storage/devices-store.js';
import type { OpcuaDeviceDeclaration } from './opcua-config.js';

/** No MQTT secret: this is not a scrypt hash, so no password matches it (services/auth/device-secrets.ts). */
export const NO_MQTT_SECRET = 'none:opcua-device';

/**
 * Registers the mapping's devices that do not exist yet, before the gateway sends their
 * values (a value of an unregistered device is quarantined). An existing device is left
 * as it is: the API owns it once it exists, and a mapping file must not rename it.
 */
export async function registerOpcuaDevices(db: Queryable, devices: ReadonlyMap<string, OpcuaDeviceDeclaration>): Promise<void> {
  for (const [id, device] of devices) {
    await insertDevice(db, { id, domain: device.domain, name: device.name, secretHash: NO_MQTT_SECRET });
  }
}
