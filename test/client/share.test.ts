/**
 * Tabs sharing one connection, played in one process: fakes of BroadcastChannel and Web
 * Locks (test/helpers/share-fakes.ts) between the tabs, a real gateway behind them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createClient,
  type LifelineClient,
  type PushMessage,
  type ResyncEvent,
  type SharedClientOptions,
} from '../../src/entries/shared.js';
import type { PageEvent, PageLifecycle } from '../../src/env/index.js';
import { CountingWebSocket, startE2E, type E2E } from '../e2e/fixture.js';
import { SharedStorage, TabHub } from '../helpers/share-fakes.js';
import { waitFor } from '../helpers/wait.js';

interface Tab {
  readonly name: string;
  readonly client: LifelineClient;
  readonly messages: PushMessage[];
}

/** How often a leader looks for dead tabs, where a test waits for that. */
const CONFIRM_TIMEOUT_MS = 200;

/** A page lifecycle the test drives. */
class FakePage implements PageLifecycle {
  private listener_: ((event: PageEvent) => void) | null = null;
  subscribe(listener: (event: PageEvent) => void): () => void {
    this.listener_ = listener;
    return () => {
      this.listener_ = null;
    };
  }
  emit(event: PageEvent): void {
    this.listener_?.(event);
  }
}

function openTab(
  e2e: E2E,
  hub: TabHub,
  name: string,
  storage: SharedStorage,
  page?: FakePage,
  extra: Partial<SharedClientOptions> = {},
): Tab {
  const client = createClient({
    ...extra,
    ...(page === undefined ? {} : { page }),
    url: e2e.url,
    token: () => e2e.token('alice'),
    WebSocket: CountingWebSocket,
    transports: ['websocket'],
    minReconnectDelayMs: 20,
    maxReconnectDelayMs: 200,
    storage,
    storageSaveDelayMs: 5,
    ackDelayMs: 5,
    shareConnection: true,
    locks: hub.locksOf(name),
    BroadcastChannel: hub.channelOf(name),
  });
  const messages: PushMessage[] = [];
  client.on('message', (m) => messages.push(m));
  return { name, client, messages };
}

interface Tabs extends AsyncDisposable {
  readonly hub: TabHub;
  readonly storage: SharedStorage;
  /** In the order they connected: the first one leads. */
  readonly tabs: [Tab, Tab, ...Tab[]];
}

/** Open and connect tabs of one origin, in order; `page` is the first tab's lifecycle. */
async function openTabs(
  e2e: E2E,
  names: string[],
  page?: FakePage,
  extra: Partial<SharedClientOptions> = {},
): Promise<Tabs> {
  const hub = new TabHub();
  const storage = new SharedStorage();
  const tabs: Tab[] = [];
  for (const name of names) {
    const tab = openTab(e2e, hub, name, storage, tabs.length === 0 ? page : undefined, extra);
    tabs.push(tab);
    await tab.client.connect();
  }
  return {
    hub,
    storage,
    tabs: tabs as Tabs['tabs'],
    async [Symbol.asyncDispose]() {
      for (const tab of [...tabs].reverse()) await tab.client.close();
    },
  };
}

function offsets(tab: Tab, stream = 'user:alice'): number[] {
  return tab.messages.filter((m) => m.stream === stream).map((m) => m.offset);
}

const LOCK = (e2e: E2E): string => `lifeline:share:1:${e2e.url}#alice`;

describe('shareConnection', () => {
  it('gives two tabs one connection: both receive, the follower requests and subscribes through the leader', async () => {
    await using e2e = await startE2E({
      onMessage: (_s, data) => ({ echo: data }),
      authorizePublish: () => true,
    });
    const before = CountingWebSocket.created;
    await using tabs = await openTabs(e2e, ['a', 'b']);
    const { hub } = tabs;
    const [a, b] = tabs.tabs;
    assert.equal(hub.holder(LOCK(e2e)), 'a');
    assert.equal(b.client.state.kind, 'open');
    assert.equal(CountingWebSocket.created - before, 1, 'one connection for two tabs');

    await e2e.gateway().publish({ to: { user: 'alice' }, data: 'hello both' });
    await waitFor(() => {
      assert.deepEqual(offsets(a), [1]);
      assert.deepEqual(offsets(b), [1]);
    });

    assert.deepEqual(await b.client.request({ q: 1 }), { echo: { q: 1 } });
    const sent = b.client.send({ typing: true });
    assert.equal(sent.status, 'queued');
    await sent.delivered;
    await assert.rejects(
      b.client.request(() => 'not JSON'),
      { code: 'LIFELINE_ERR_PROTOCOL' },
    );
    const receipt = await b.client.publish({ user: 'alice' }, 'to myself');
    assert.equal(receipt.positions[0]?.offset, 2);
    await waitFor(() =>
      assert.deepEqual(
        [offsets(a), offsets(b)],
        [
          [1, 2],
          [1, 2],
        ],
      ),
    );

    const news = b.client.subscribe('news');
    await waitFor(async () => {
      await e2e.gateway().publish({ to: { channel: 'news' }, data: 'extra' });
      assert.ok(
        b.messages.some((m) => m.stream === 'channel:news'),
        'b has news',
      );
    });
    // The leader holds the subscription for b; its own page did not ask for it.
    assert.ok(!a.messages.some((m) => m.stream === 'channel:news'), 'a has no news');
    await news.unsubscribe();
    assert.equal(CountingWebSocket.created - before, 1);
  });

  it('hands over when the leader closes: the next tab connects and resumes, nothing twice', async () => {
    await using e2e = await startE2E();
    await using tabs = await openTabs(e2e, ['a', 'b']);
    const { hub } = tabs;
    const [a, b] = tabs.tabs;
    for (let n = 1; n <= 3; n++) await e2e.gateway().publish({ to: { user: 'alice' }, data: n });
    await waitFor(() => assert.deepEqual(offsets(b), [1, 2, 3]));
    await a.client.close();
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    await waitFor(() => assert.equal(b.client.state.kind, 'open'));
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 4 });
    await waitFor(() => assert.deepEqual(offsets(b), [1, 2, 3, 4]));

    // Closed is not the end: a tab that connects again follows the new leader, and gets
    // what it missed meanwhile from it, as a client of its own would by resuming.
    await a.client.connect();
    assert.equal(hub.holder(LOCK(e2e)), 'b');
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 5 });
    await waitFor(() => assert.deepEqual(offsets(a), [1, 2, 3, 4, 5]));
    assert.deepEqual(
      await a.client.request('again', { timeoutMs: 2_000 }).catch((e: Error) => e.name),
      'RequestFailedError',
    );
  });

  it('loses nothing when the leader dies before the other tabs got its last messages', async () => {
    await using e2e = await startE2E({ onMessage: (_s, data) => ({ echo: data }) });
    await using tabs = await openTabs(e2e, ['a', 'b', 'c'], undefined, {
      shareConfirmTimeoutMs: CONFIRM_TIMEOUT_MS,
    });
    const { hub, storage } = tabs;
    const [a, b, c] = tabs.tabs as [Tab, Tab, Tab];
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 1 });
    await waitFor(() => assert.deepEqual([offsets(b), offsets(c)], [[1], [1]]));
    const saved = (): number | undefined => savedOffset(storage, e2e);
    await waitFor(() => assert.equal(saved(), 1));

    // From here on nothing a posts reaches b or c: 2 and 3 reach only a's own page.
    hub.hold('a');
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 2 });
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 3 });
    await waitFor(() => assert.deepEqual(offsets(a), [1, 2, 3]));
    // b asks something that a never hears of.
    const reply = b.client.request('still there?', { timeoutMs: 5_000 });
    reply.catch(() => {}); // awaited below; a failure before that must not go unhandled
    // a's client wants to save 3; the checkpoint stays at 1: b and c did not confirm.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(saved(), 1);

    hub.kill('a'); // a crash: the lock goes to the next tab, a's last words are lost
    await a.client.close(); // stops a's socket in this process; nothing of it reaches anyone
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    await waitFor(() => assert.deepEqual(offsets(b), [1, 2, 3]));
    await waitFor(() => assert.deepEqual(offsets(c), [1, 2, 3]));
    assert.deepEqual(await reply, { echo: 'still there?' });

    await e2e.gateway().publish({ to: { user: 'alice' }, data: 4 });
    await waitFor(() =>
      assert.deepEqual(
        [offsets(b), offsets(c)],
        [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ],
      ),
    );
    assert.deepEqual(
      b.messages.map((m) => m.data),
      [1, 2, 3, 4],
    );
  });

  it('runs a call once on the gateway when its leader dies before passing on the reply', async () => {
    const calls: unknown[] = [];
    await using e2e = await startE2E({
      onMessage: (_s, data) => {
        calls.push(data);
        return { echo: data, run: calls.length };
      },
    });
    await using tabs = await openTabs(e2e, ['a', 'b']);
    const { hub } = tabs;
    const [a, b] = tabs.tabs;
    // a hears b's call and runs it on the gateway, but its answer never reaches b.
    hub.hold('a');
    const reply = b.client.request('once', { timeoutMs: 10_000 });
    reply.catch(() => {}); // awaited below; a failure before that must not go unhandled
    await waitFor(() => assert.deepEqual(calls, ['once']));
    hub.kill('a');
    await a.client.close();
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    // b re-sends the call through its own client with the same id: the gateway answers
    // with the first run's reply instead of running the hook again.
    assert.deepEqual(await reply, { echo: 'once', run: 1 });
    assert.deepEqual(calls, ['once']);
  });

  it('resumes the channel of a follower from the checkpoint when its leader dies', async () => {
    await using e2e = await startE2E();
    await using tabs = await openTabs(e2e, ['a', 'b']);
    const { hub, storage } = tabs;
    const [a, b] = tabs.tabs;
    b.client.subscribe('news');
    const news = (): unknown[] =>
      b.messages.filter((m) => m.stream === 'channel:news').map((m) => m.data);
    await waitFor(async () => {
      await e2e.gateway().publish({ to: { channel: 'news' }, data: 'first' });
      assert.ok(news().length > 0, 'no news yet');
    });
    await waitFor(() =>
      assert.ok(savedOffset(storage, e2e, 'channel:news') !== undefined, 'news not saved'),
    );

    hub.hold('a');
    await e2e.gateway().publish({ to: { channel: 'news' }, data: 'while a dies' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    hub.kill('a');
    await a.client.close();
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    await waitFor(() => assert.ok(news().includes('while a dies'), 'missing'));
    await e2e.gateway().publish({ to: { channel: 'news' }, data: 'after' });
    await waitFor(() => assert.ok(news().includes('after'), 'missing'));
    // Once each, in order: the channel's offsets never repeat nor go back.
    const seen = offsets(b, 'channel:news');
    assert.deepEqual(
      seen,
      [...new Set(seen)].sort((x, y) => x - y),
    );
    assert.deepEqual(
      news().filter((d) => d !== 'first'),
      ['while a dies', 'after'],
    );
  });

  it('lets go of the channels of a follower that crashed, not of one that is frozen', async () => {
    await using e2e = await startE2E();
    await using tabs = await openTabs(e2e, ['a', 'b', 'c'], undefined, {
      shareConfirmTimeoutMs: CONFIRM_TIMEOUT_MS,
    });
    const { hub } = tabs;
    const [, b, c] = tabs.tabs as [Tab, Tab, Tab];
    b.client.subscribe('crashing');
    c.client.subscribe('frozen');
    const channels = (): string[] => [...(e2e.gateway().sessions()[0]?.channels ?? [])].sort();
    await waitFor(() => assert.deepEqual(channels(), ['crashing', 'frozen'], 'subscribed'));

    // Frozen: nothing it posts arrives, but its presence lock is held.
    hub.hold('c');
    // Crashed: no goodbye, and the browser releases its locks.
    hub.kill('b');
    await waitFor(() => assert.deepEqual(channels(), ['frozen'], 'the crashed tab let go'));
    await new Promise((resolve) => setTimeout(resolve, CONFIRM_TIMEOUT_MS * 3));
    assert.deepEqual(channels(), ['frozen'], 'the frozen tab keeps its channel');
    await b.client.close();
  });

  it('leaves while the page is in the back/forward cache, and joins again when it is back', async () => {
    await using e2e = await startE2E();
    const page = new FakePage();
    await using tabs = await openTabs(e2e, ['a', 'b'], page);
    const { hub } = tabs;
    const [a, b] = tabs.tabs;
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 1 });
    await waitFor(() => assert.deepEqual([offsets(a), offsets(b)], [[1], [1]]));

    page.emit({ type: 'pagehide', persisted: true });
    assert.equal(a.client.state.kind, 'suspended');
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    await waitFor(() => assert.equal(b.client.state.kind, 'open'));
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 2 });
    await waitFor(() => assert.deepEqual(offsets(b), [1, 2]));

    page.emit({ type: 'pageshow', persisted: true });
    await waitFor(() => assert.equal(a.client.state.kind, 'open'));
    assert.equal(hub.holder(LOCK(e2e)), 'b', 'b keeps the lead');
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 3 });
    // What arrived while it was away comes first, from the leader: nothing lost, no twice.
    await waitFor(() =>
      assert.deepEqual(
        [offsets(a), offsets(b)],
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
      ),
    );
  });

  it('tells a tab back from the cache to re-fetch what the leader no longer holds', async () => {
    await using e2e = await startE2E();
    const page = new FakePage();
    await using tabs = await openTabs(e2e, ['a', 'b'], page, { shareCatchUpLimit: 2 });
    const { hub } = tabs;
    const [a, b] = tabs.tabs;
    a.client.subscribe('news');
    b.client.subscribe('news');
    const resyncs: ResyncEvent[] = [];
    a.client.on('resync', (r) => resyncs.push(r));
    await e2e.gateway().publish({ to: { user: 'alice' }, data: 1 });
    await waitFor(() => assert.deepEqual(offsets(a), [1]));
    await waitFor(() => assert.ok(e2e.gateway().sessions()[0]?.channels.has('news'), 'news'));
    await e2e.gateway().publish({ to: { channel: 'news' }, data: 'n1' });
    await waitFor(() => assert.deepEqual(offsets(a, 'channel:news'), [1]));

    page.emit({ type: 'pagehide', persisted: true });
    await waitFor(() => assert.equal(hub.holder(LOCK(e2e)), 'b'));
    await waitFor(() => assert.equal(b.client.state.kind, 'open'));
    // Three inbox messages while away, more than the leader keeps; one on the channel.
    for (let n = 2; n <= 4; n++) await e2e.gateway().publish({ to: { user: 'alice' }, data: n });
    await e2e.gateway().publish({ to: { channel: 'news' }, data: 'n2' });
    await waitFor(() => assert.deepEqual(offsets(b), [1, 2, 3, 4]));
    await waitFor(() => assert.deepEqual(offsets(b, 'channel:news'), [1, 2]));

    page.emit({ type: 'pageshow', persisted: true });
    await waitFor(() => assert.equal(a.client.state.kind, 'open'));
    await waitFor(() => assert.deepEqual(offsets(a, 'channel:news'), [1, 2]));
    // The inbox: 2 is gone with the leader's oldest events, so a resync says where
    // delivery goes on, and 4 follows; the channel caught up in full, with no resync.
    await waitFor(() => assert.deepEqual(offsets(a), [1, 4]));
    assert.deepEqual(
      resyncs.map((r) => [r.stream, r.reason, r.position?.offset]),
      [['user:alice', 'trimmed', 3]],
    );
  });

  it('falls back to a connection of its own where Web Locks are missing', async () => {
    await using e2e = await startE2E();
    const before = CountingWebSocket.created;
    const clients = ['a', 'b'].map(() =>
      createClient({
        url: e2e.url,
        token: () => e2e.token('alice'),
        WebSocket: CountingWebSocket,
        transports: ['websocket'],
        shareConnection: true,
      }),
    );
    try {
      await Promise.all(clients.map((c) => c.connect()));
      assert.equal(CountingWebSocket.created - before, 2);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('refuses to guess the user of a token that is not a JWT', async () => {
    const hub = new TabHub();
    const client = createClient({
      url: 'ws://127.0.0.1:9/ws',
      token: 'opaque',
      WebSocket: CountingWebSocket,
      shareConnection: true,
      locks: hub.locksOf('a'),
      BroadcastChannel: hub.channelOf('a'),
    });
    await assert.rejects(client.connect(), { code: 'LIFELINE_ERR_INVALID_OPTION' });
    assert.equal(client.state.kind, 'failed');
  });
});

/** The offset of `stream` in the positions the tabs share (the client's stored record). */
function savedOffset(storage: SharedStorage, e2e: E2E, stream = 'user:alice'): number | undefined {
  const text = storage.getItem(`lifeline:positions:${e2e.url}`);
  if (text === null) return undefined;
  const record = JSON.parse(text) as { positions: { stream: string; offset: number }[] };
  return record.positions.find((p) => p.stream === stream)?.offset;
}
