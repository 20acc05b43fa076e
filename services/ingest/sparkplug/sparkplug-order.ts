import type { ConnectionOrder } from '../../../contracts/envelope.js';

/**
 * Sparkplug is stateful: a DATA metric names an alias its BIRTH defined, and `seq` must
 * grow by one per message (Sparkplug 3.0 §6.4.1). Workers are stateless replicas that run
 * jobs concurrently, so a BIRTH and the DATA after it may sit in two jobs that run at the
 * same time. The gateway numbers each connection's Sparkplug messages in the order it
 * accepted them (RawEnvelope.order); a worker applies an edge node's message only when
 * the one before it is committed, so sequence gaps it reports are real losses.
 */

/** Applied position of an edge node, kept with its state. */
export interface EdgeOrder {
  /** The last applied message of the current connection. */
  current: ConnectionOrder | undefined;
  /** Indexes of the current connection skipped when waiting was given up; they may still come. */
  skipped: number[];
}

/**
 * apply: next in order. wait: an earlier message of the edge is not committed yet.
 * late: one that was skipped earlier, now here. duplicate: applied already (a retried
 * job). stale: from a connection older than the one applied.
 */
export type OrderVerdict = 'apply' | 'wait' | 'late' | 'duplicate' | 'stale';

const MAX_SKIPPED = 1000;

export function orderVerdict(state: EdgeOrder, order: ConnectionOrder | undefined): OrderVerdict {
  if (order === undefined) return 'apply'; // no order known (a will published for a broker node that died)
  const current = state.current;
  if (current !== undefined && current.connectionId === order.connectionId) {
    if (order.index === current.index + 1) return 'apply';
    if (order.index <= current.index) return state.skipped.includes(order.index) ? 'late' : 'duplicate';
    return 'wait';
  }
  if (current !== undefined && order.connectedAtMs < current.connectedAtMs) return 'stale';
  if (order.index > 0) return 'wait';
  const previous = order.previous;
  if (previous === undefined) return 'apply';
  if (current === undefined) return 'wait';
  if (previous.connectionId === current.connectionId) return current.index >= previous.lastIndex ? 'apply' : 'wait';
  return previous.connectedAtMs > current.connectedAtMs ? 'wait' : 'apply';
}

/** The order after applying `order` — in sequence, or (`forced`) past messages that never came. */
export function advanceOrder(state: EdgeOrder, order: ConnectionOrder | undefined, verdict: OrderVerdict): EdgeOrder {
  if (order === undefined || verdict === 'duplicate' || verdict === 'stale') return state;
  if (verdict === 'late') return { current: state.current, skipped: state.skipped.filter((index) => index !== order.index) };
  const sameConnection = state.current?.connectionId === order.connectionId;
  const first = sameConnection ? (state.current?.index ?? -1) + 1 : 0;
  const skipped = sameConnection ? [...state.skipped] : [];
  for (let index = first; index < order.index && skipped.length < MAX_SKIPPED; index += 1) skipped.push(index);
  const current: ConnectionOrder = { connectionId: order.connectionId, connectedAtMs: order.connectedAtMs, index: order.index };
  return { current, skipped };
}
