/**
 * Which device may use an MQTT client identifier (docs/security.md, "Client identifiers").
 *
 * MQTT lets a new CONNECT with a client id take over the session of that id
 * (MQTT-3.1.4-2): the old connection is closed and, without a clean session, its
 * subscriptions and queued messages pass to the newcomer. So a client id is bound to
 * the device that holds it:
 *
 * - a device's own ids — its device id, or `{deviceId}:{anything}` (":" never occurs in
 *   a device id) — are always its to use, and a reconnect takes over its own session;
 * - any other id (e.g. a client library's random `mqttjs_…`) is free while no other
 *   device holds it on this broker node (connected, or keeping a session after a
 *   connection without clean session ended); otherwise the CONNECT is refused with
 *   return code 2, "identifier rejected", and the holder is not disturbed.
 */

export type ClientIdClaim = { ok: true } | { ok: false; holder: string };

export interface ClientIdPolicy {
  /**
   * Decides whether `deviceId` may connect as `clientId`; when it may, the id is the
   * device's (held by `connection`) until `released`.
   */
  claim(clientId: string, deviceId: string, connection: object): ClientIdClaim;
  /**
   * The connection ended. Its id stays bound to the device while the broker keeps its
   * session (`keepsSession`: it connected without clean session).
   */
  released(clientId: string, connection: object, keepsSession: boolean): void;
  /** Client ids currently bound (for tests and metrics). */
  readonly size: number;
}

/** True when the id is one of the device's own (its id, or `{deviceId}:…`). */
export function isOwnClientId(clientId: string, deviceId: string): boolean {
  return clientId === deviceId || clientId.startsWith(`${deviceId}:`);
}

export function createClientIdPolicy(): ClientIdPolicy {
  // connection is undefined once only a kept session holds the id.
  const holders = new Map<string, { deviceId: string; connection: object | undefined }>();
  return {
    claim(clientId, deviceId, connection) {
      const holder = holders.get(clientId);
      if (holder !== undefined && holder.deviceId !== deviceId && !isOwnClientId(clientId, deviceId)) {
        return { ok: false, holder: holder.deviceId };
      }
      holders.set(clientId, { deviceId, connection });
      return { ok: true };
    },
    released(clientId, connection, keepsSession) {
      const holder = holders.get(clientId);
      // A takeover by the same device already put the new connection here: leave it.
      if (holder === undefined || holder.connection !== connection) return;
      if (keepsSession) holder.connection = undefined;
      else holders.delete(clientId);
    },
    get size() {
      return holders.size;
    },
  };
}
