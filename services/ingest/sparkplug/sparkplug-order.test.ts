import { describe, expect, it } from 'vitest';
import type { ConnectionOrder } from '../../../contracts/envelope.js';
import { advanceOrder, orderVerdict, type EdgeOrder } from './sparkplug-order.js';

const A = (index: number, extra: Partial<ConnectionOrder> = {}): ConnectionOrder => ({ connectionId: 'a', connectedAtMs: 1000, index, ...extra });
const B = (index: number, extra: Partial<ConnectionOrder> = {}): ConnectionOrder => ({ connectionId: 'b', connectedAtMs: 2000, index, ...extra });
const at = (current: ConnectionOrder | undefined, skipped: number[] = []): EdgeOrder => ({ current, skipped });

describe('applying one edge node’s messages in the order the gateway accepted them', () => {
  it.each([
    ['nothing applied yet, first message of a connection', at(undefined), A(0), 'apply'],
    ['nothing applied yet, a later message', at(undefined), A(1), 'wait'],
    ['the next message', at(A(4)), A(5), 'apply'],
    ['one ahead of the next', at(A(4)), A(6), 'wait'],
    ['applied already (a retried job)', at(A(4)), A(3), 'duplicate'],
    ['skipped earlier, arriving late', at(A(4), [3]), A(3), 'late'],
    ['a new connection starts', at(A(4)), B(0), 'apply'],
    ['a new connection, but not its first message', at(A(4)), B(1), 'wait'],
    ['an older connection after a newer one', at(B(2)), A(5), 'stale'],
    ['a new connection whose predecessor is not finished', at(A(4)), B(0, { previous: { connectionId: 'a', connectedAtMs: 1000, lastIndex: 6 } }), 'wait'],
    ['a new connection whose predecessor is finished', at(A(6)), B(0, { previous: { connectionId: 'a', connectedAtMs: 1000, lastIndex: 6 } }), 'apply'],
    ['a new connection whose predecessor has not started', at(undefined), B(0, { previous: { connectionId: 'a', connectedAtMs: 1000, lastIndex: 2 } }), 'wait'],
    ['no order known (a will published for a dead broker node)', at(A(4)), undefined, 'apply'],
  ] as const)('%s: %s', (_name, state, order, verdict) => {
    expect(orderVerdict(state, order)).toBe(verdict);
  });

  it('moves on, remembering messages skipped when waiting was given up', () => {
    expect(advanceOrder(at(A(4)), A(5), 'apply')).toEqual(at(A(5)));
    expect(advanceOrder(at(A(4)), A(8), 'apply')).toEqual(at(A(8), [5, 6, 7]));
    expect(advanceOrder(at(A(8), [5, 6, 7]), A(6), 'late')).toEqual(at(A(8), [5, 7]));
    expect(advanceOrder(at(A(8), [5]), B(0), 'apply')).toEqual(at(B(0)));
    expect(advanceOrder(at(B(1)), A(9), 'stale')).toEqual(at(B(1)));
    expect(advanceOrder(at(A(4)), A(2), 'duplicate')).toEqual(at(A(4)));
  });
});
