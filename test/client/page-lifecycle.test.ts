/**
 * The page lifecycle through an injected source: visible again → liveness checked at once,
 * pagehide → a clean close and `suspended`, pageshow from the back/forward cache → resume.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode, type ClientOptions } from '../../src/entries/client.js';
import { browserPage, type PageEvent, type PageLifecycle } from '../../src/env/index.js';
import { flushMicrotasks, open, setup, stateOf, type Fixture } from './support.js';

class FakePage implements PageLifecycle {
  readonly listeners = new Set<(event: PageEvent) => void>();

  subscribe(listener: (event: PageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: PageEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

const INBOX = 'user:u-1';

function push(offset: number): Record<string, unknown> {
  return {
    type: 'push',
    id: `m${offset}`,
    stream: INBOX,
    epoch: 'e',
    offset,
    data: offset,
    publishedAt: 0,
  };
}

function fixture(options: Partial<ClientOptions> = {}): Fixture & { page: FakePage } {
  const page = new FakePage();
  return { page, ...setup({ page, ...options }) };
}

describe('pagehide and pageshow', () => {
  it('pagehide closes with 1000 after sending acks, and keeps the outbox for pageshow', async () => {
    const f = fixture();
    await open(f);
    const first = f.ws.last();
    first.deliver(push(1));
    const { delivered } = f.client.send({ q: 1 }); // no deadline: no timer of its own
    const [sent] = first.framesOf('request');

    f.page.emit({ type: 'pagehide', persisted: true });
    assert.equal(f.client.state.kind, 'suspended');
    assert.deepEqual(first.closeCalls, [{ code: CloseCode.NORMAL, reason: 'normal closure' }]);
    assert.deepEqual(first.framesOf('ack'), [
      { type: 'ack', positions: [{ stream: INBOX, epoch: 'e', offset: 1 }] },
    ]);
    await flushMicrotasks();
    assert.equal(f.clock.pendingTimers, 0, 'a suspended client runs no timer');
    assert.equal(f.ws.live, 0);

    f.page.emit({ type: 'pageshow', persisted: true });
    assert.equal(f.client.state.kind, 'connecting');
    const second = f.ws.last();
    assert.notEqual(second, first);
    second.handshake();
    // Resumed from where it stopped; the request goes out again with the same id.
    assert.deepEqual(second.framesOf('hello')[0]?.resume, [
      { stream: INBOX, epoch: 'e', offset: 1 },
    ]);
    assert.equal(second.framesOf('request')[0]?.id, sent?.id);
    second.deliver({ type: 'reply', id: sent?.id ?? '', ok: true });
    await delivered;
    assert.deepEqual(f.kinds(), ['connecting', 'open', 'suspended', 'connecting', 'open']);
    await f.client.close();
  });

  it('pageshow without the back/forward cache, or while not suspended, changes nothing', async () => {
    const f = fixture();
    await open(f);
    f.page.emit({ type: 'pageshow', persisted: true });
    assert.equal(f.client.state.kind, 'open');
    f.page.emit({ type: 'pagehide', persisted: false });
    f.page.emit({ type: 'pageshow', persisted: false });
    assert.equal(f.client.state.kind, 'suspended');
    // connect() resumes a suspended client too.
    const ready = f.client.connect();
    f.ws.last().handshake();
    await ready;
    assert.deepEqual(f.kinds().slice(-3), ['suspended', 'connecting', 'open']);
    await f.client.close();
  });

  it('close() from suspended is terminal and removes the page listener', async () => {
    const f = fixture();
    await open(f);
    assert.equal(f.page.listeners.size, 1);
    f.page.emit({ type: 'pagehide', persisted: true });
    await f.client.close();
    assert.equal(stateOf(f.client, 'closed').reason.initiator, 'client');
    assert.equal(f.page.listeners.size, 0);
    f.page.emit({ type: 'pageshow', persisted: true });
    assert.equal(f.client.state.kind, 'closed');
  });

  it('page: false leaves the page alone', async () => {
    const f = fixture({ page: false });
    await open(f);
    assert.equal(f.page.listeners.size, 0);
    await f.client.close();
  });
});

describe('visible again', () => {
  it('pings an open session at once and drops it when no answer comes within pongTimeoutMs', async () => {
    const f = fixture({ pongTimeoutMs: 5_000 });
    await open(f);
    const socket = f.ws.last();
    f.page.emit({ type: 'visible' });
    assert.equal(socket.framesOf('ping').length, 1);
    f.clock.advance(5_000);
    assert.equal(socket.closeCalls[0]?.code, CloseCode.HEARTBEAT_TIMEOUT);
    assert.equal(f.client.state.kind, 'reconnecting');
    await f.client.close();
  });

  it('starts an overdue reconnect at once; a reconnect not yet due keeps waiting', async () => {
    const f = fixture({ minReconnectDelayMs: 10_000, maxReconnectDelayMs: 10_000 });
    await open(f);
    f.ws.last().finishClose(CloseCode.ABNORMAL);
    const waiting = stateOf(f.client, 'reconnecting');
    f.page.emit({ type: 'visible' });
    assert.equal(f.client.state, waiting, 'not due yet');
    // A throttled background timer: the time passed, the timer has not fired.
    f.clock.jump(waiting.retryAt - f.clock.now());
    f.page.emit({ type: 'visible' });
    assert.equal(f.client.state.kind, 'connecting');
    await f.client.close();
  });

  it('online checks an open session at once', async () => {
    const f = fixture();
    await open(f);
    f.network.emit('online');
    assert.equal(f.ws.last().framesOf('ping').length, 1);
    await f.client.close();
    assert.equal(f.network.listenerCount, 0);
  });
});

describe('browserPage()', () => {
  it('reports visibility, pagehide and pageshow of a window and document', () => {
    const target = (): EventTarget & { visibilityState?: string } => new EventTarget();
    const window = target();
    const document = target();
    const page = browserPage({ window, document });
    assert.ok(page !== undefined);
    const events: PageEvent[] = [];
    const stop = page.subscribe((e) => events.push(e));
    document.visibilityState = 'hidden';
    document.dispatchEvent(new Event('visibilitychange'));
    document.visibilityState = 'visible';
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(Object.assign(new Event('pagehide'), { persisted: true }));
    window.dispatchEvent(new Event('pageshow'));
    stop();
    window.dispatchEvent(new Event('pagehide'));
    assert.deepEqual(events, [
      { type: 'visible' },
      { type: 'pagehide', persisted: true },
      { type: 'pageshow', persisted: false },
    ]);
  });

  it('is undefined without a window and a document (Node)', () => {
    assert.equal(browserPage(), undefined);
  });
});
