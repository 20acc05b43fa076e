import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Client } from 'aedes';
import type { MqttRefusal } from '../../contracts/error-codes.js';
import { createClientIdPolicy } from './client-id-policy.js';
import { createConnectionLimiter, type ConnectionLimits } from './connection-limiter.js';
import { protocolViolation } from './protocol-violation.js';

export interface GuardRefusal {
  reason: MqttRefusal;
  clientId: string | undefined;
  deviceId: string | undefined;
  address: string | undefined;
  detail: string;
}

/**
 * The gateway's defences that concern a whole connection rather than one message:
 * per-address limits, the client id binding and counting protocol violations
 * (docs/security.md). The gateway's aedes hooks call these; each refusal is reported
 * through `refuse` with the client's address.
 */
export interface ConnectionGuards {
  /** A new connection; false when it must be closed at once (too many from its address). */
  accept(stream: Duplex, request: IncomingMessage | undefined): boolean;
  /** Links the aedes client of an accepted connection to it; releases what it held when it closes. */
  track(client: Client, stream: Duplex): void;
  addressOf(client: Client): string | undefined;
  /** Why this client's CONNECT must be refused before its password is checked, or `undefined`. */
  backingOff(client: Client, username: string | undefined): string | undefined;
  authFailed(client: Client): void;
  /** Binds the client id to the device; false (and reported) when another device holds it. */
  claimClientId(client: Client, deviceId: string): boolean;
  /** The gateway closed this client for a reason it reported: later errors are not counted again. */
  closedByGateway(client: Client): void;
  /** An error the gateway's own hooks hand to aedes: already reported, not a protocol violation. */
  own(error: Error): Error;
  /** aedes' clientError / connectionError: counted when the client broke the protocol. */
  clientError(client: Client, error: Error, deviceId: string | undefined): void;
}

export function createConnectionGuards(limits: ConnectionLimits, refuse: (refusal: GuardRefusal) => void): ConnectionGuards {
  const limiter = createConnectionLimiter(limits);
  const clientIds = createClientIdPolicy();
  const addressOfStream = new WeakMap<Duplex, string>();
  const addressOfClient = new WeakMap<Client, string>();
  const claimedId = new WeakMap<Client, string>();
  const ownErrors = new WeakSet<Error>();
  const closedByGateway = new WeakSet<Client>();

  const remoteAddress = (stream: Duplex, request: IncomingMessage | undefined): string =>
    request?.socket.remoteAddress ?? (stream as Duplex & { remoteAddress?: string }).remoteAddress ?? 'unknown';

  return {
    accept(stream, request) {
      const address = remoteAddress(stream, request);
      const refused = limiter.opened(address);
      if (refused !== undefined) {
        refuse({ reason: 'too_many_connections', clientId: undefined, deviceId: undefined, address, detail: refused });
        stream.destroy();
        return false;
      }
      addressOfStream.set(stream, address);
      return true;
    },
    track(client, stream) {
      const address = addressOfStream.get(stream);
      if (address !== undefined) addressOfClient.set(client, address);
      // 'close' comes once per stream, whether the client or the broker ended it.
      stream.once('close', () => {
        if (address !== undefined) limiter.closed(address);
        const id = claimedId.get(client);
        if (id !== undefined) clientIds.released(id, client, client.clean === false);
      });
    },
    addressOf: (client) => addressOfClient.get(client),
    backingOff(client, username) {
      const address = addressOfClient.get(client);
      const detail = address === undefined ? undefined : limiter.backingOff(address);
      if (detail !== undefined) refuse({ reason: 'auth_backoff', clientId: client.id, deviceId: username, address, detail });
      return detail;
    },
    authFailed(client) {
      const address = addressOfClient.get(client);
      if (address !== undefined) limiter.authFailed(address);
    },
    claimClientId(client, deviceId) {
      const claim = clientIds.claim(client.id, deviceId, client);
      if (claim.ok) {
        claimedId.set(client, client.id);
        return true;
      }
      refuse({
        reason: 'client_id_taken', clientId: client.id, deviceId, address: addressOfClient.get(client),
        detail: `client id "${client.id}" is held by device ${claim.holder}; use "${deviceId}" or "${deviceId}:<suffix>"`,
      });
      return false;
    },
    closedByGateway: (client) => void closedByGateway.add(client),
    own(error) {
      ownErrors.add(error);
      return error;
    },
    clientError(client, error, deviceId) {
      if (ownErrors.has(error) || closedByGateway.has(client)) return;
      const violation = protocolViolation(error);
      if (violation === undefined) return;
      refuse({ reason: 'malformed_packet', clientId: client.id ?? undefined, deviceId, address: addressOfClient.get(client), detail: violation });
    },
  };
}
