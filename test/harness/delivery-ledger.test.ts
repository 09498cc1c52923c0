/**
 * The delivery ledger of the end-to-end tests decides when a test stops waiting and what
 * counts as a problem, so its own rules are pinned here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryLedger, type Delivery, type Receiver } from '../helpers/delivery-ledger.js';

const at = (offset: number, seq: number | undefined): Delivery => ({
  stream: 'channel:a',
  epoch: 'e',
  offset,
  seq,
});

function receiver(deliveries: Delivery[]): Receiver {
  return { name: 'r', streams: ['channel:a'], deliveries };
}

describe('delivery ledger', () => {
  it('counts acknowledged messages not received yet', () => {
    const ledger = new DeliveryLedger();
    ledger.published(1, [{ stream: 'channel:a', epoch: 'e', offset: 1 }]);
    ledger.published(2, [{ stream: 'channel:a', epoch: 'e', offset: 2 }]);
    assert.equal(ledger.outstanding(receiver([])), 2);
    assert.equal(ledger.outstanding(receiver([at(1, 1)])), 1);
    assert.equal(ledger.outstanding(receiver([at(1, 1), at(2, 2)])), 0);
  });

  it('a stored uncertain publish does not stand in for a message still on its way', () => {
    const ledger = new DeliveryLedger();
    ledger.published(1, [{ stream: 'channel:a', epoch: 'e', offset: 1 }]);
    ledger.uncertain(2, ['channel:a']);
    ledger.published(3, [{ stream: 'channel:a', epoch: 'e', offset: 3 }]);
    // The uncertain one arrived, the last acknowledged one has not: one is outstanding.
    const early = receiver([at(1, 1), at(2, 2)]);
    assert.equal(ledger.outstanding(early), 1);
    const complete = receiver([at(1, 1), at(2, 2), at(3, 3)]);
    assert.equal(ledger.outstanding(complete), 0);
    assert.deepEqual(ledger.settle([complete]), { stored: 1, absent: 0, problems: [] });
    assert.deepEqual(ledger.verify(complete).problems, []);
  });
});
