import { randomUUID } from 'node:crypto';
import type { ConnectionOrder } from '../../contracts/envelope.js';

/**
 * Numbers each connection's Sparkplug messages in the order the broker accepted them
 * (RawEnvelope.order), so workers running jobs concurrently can apply one edge node's
 * messages in that order (services/ingest/sparkplug/sparkplug-order.ts). A connection's
 * first message also names the device's previous connection on this broker node and its
 * last number, so a reconnect's BIRTH is not applied before the old connection's DATA.
 */
export interface ConnectionOrderer {
  /** Called once per connection, when it is authenticated. */
  opened(deviceId: string): ConnectionState;
  next(state: ConnectionState): ConnectionOrder;
}

export interface ConnectionState {
  readonly deviceId: string;
  readonly connectionId: string;
  readonly connectedAtMs: number;
  nextIndex: number;
}

export function createConnectionOrderer(now: () => number = Date.now): ConnectionOrderer {
  const lastConnection = new Map<string, { connectionId: string; connectedAtMs: number; lastIndex: number }>();
  return {
    opened: (deviceId) => ({ deviceId, connectionId: randomUUID(), connectedAtMs: now(), nextIndex: 0 }),
    next(state) {
      const index = state.nextIndex++;
      const last = lastConnection.get(state.deviceId);
      const order: ConnectionOrder = { connectionId: state.connectionId, connectedAtMs: state.connectedAtMs, index };
      if (index === 0 && last !== undefined && last.connectionId !== state.connectionId) order.previous = { ...last };
      // A late will of an older connection must not displace the newer one.
      if (last === undefined || last.connectionId === state.connectionId || last.connectedAtMs <= state.connectedAtMs) {
        lastConnection.set(state.deviceId, { connectionId: state.connectionId, connectedAtMs: state.connectedAtMs, lastIndex: index });
      }
      return order;
    },
  };
}
