import { unregisterDom } from './dom.js';
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react';
import { StrictMode, createElement, type ReactElement } from 'react';
import { WebSocket } from 'ws';
import {
  useChannel,
  useLifeline,
  useLifelineState,
  useMessages,
  type UseLifelineResult,
} from '../../src/entries/react.js';
import {
  createClient,
  type ClientOptions,
  type LifelineClient,
  type PushMessage,
} from '../../src/entries/client.js';
import type { ServerFrame } from '../../src/protocol/index.js';
import { FakeClock, flushMicrotasks } from '../helpers/fake-clock.js';
import { fakeWebSocket } from '../helpers/fake-websocket.js';
import { startGateway } from '../server/fixtures.js';

afterEach(cleanup);
after(unregisterDom);

function setup() {
  const clock = new FakeClock();
  const ws = fakeWebSocket();
  const options: ClientOptions = {
    url: 'wss://gateway.test/ws',
    token: 'u:alice',
    WebSocket: ws.WebSocket,
    clock,
    random: () => 0.5,
  };
  return { clock, ws, options };
}

// Offsets are per stream and without gaps, as a gateway sends them.
const offsets = new Map<string, number>();
let ids = 0;
function push(stream: string, data: unknown): ServerFrame {
  const offset = (offsets.get(stream) ?? 0) + 1;
  offsets.set(stream, offset);
  return { type: 'push', id: `m${++ids}`, stream, epoch: 'e1', offset, data, publishedAt: 1 };
}

/** The little of the DOM these tests read (the type check runs without the DOM lib). */
interface DomNode {
  readonly textContent: string | null;
  querySelectorAll(selector: string): Iterable<DomNode>;
}
const dom = (node: unknown): DomNode => node as DomNode;
const texts = (node: unknown, selector: string): (string | null)[] =>
  [...dom(node).querySelectorAll(selector)].map((n) => n.textContent);

function strict(element: ReactElement): ReactElement {
  return createElement(StrictMode, null, element);
}

async function openClient(
  client: LifelineClient,
  ws: ReturnType<typeof fakeWebSocket>,
): Promise<void> {
  const ready = client.connect();
  ws.last().handshake();
  await ready;
}

describe('lifeline/react useLifelineState', () => {
  it('re-renders on state changes only, with the client’s own state object', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    let renders = 0;
    const { result, rerender } = renderHook(() => {
      renders++;
      return useLifelineState(client);
    });
    // Read through a function: each assertion narrows a plain property access.
    const current = () => result.current;
    assert.equal(current().kind, 'idle');
    await act(async () => openClient(client, ws));
    assert.equal(current(), client.state);
    assert.equal(current().kind, 'open');

    const before = renders;
    act(() => ws.last().deliver(push('user:alice', 'not a state change')));
    assert.equal(renders, before, 'a message does not re-render a state hook');
    const snapshot = current();
    rerender();
    assert.equal(current(), snapshot, 'the same snapshot across renders');

    act(() => ws.last().finishClose(1006));
    assert.equal(current().kind, 'reconnecting');
    await client.close();
  });
});

describe('lifeline/react useMessages', () => {
  it('holds the last N of a stream; the array changes only when a message arrives', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    await openClient(client, ws);
    let renders = 0;
    const { result, rerender } = renderHook(() => {
      renders++;
      return useMessages(client, { stream: 'user:alice', max: 2 });
    });
    const current = (): readonly PushMessage[] => result.current;
    const empty = current();
    assert.equal(empty.length, 0);
    rerender();
    assert.equal(current(), empty);

    act(() => {
      for (const n of [1, 2, 3]) ws.last().deliver(push('user:alice', n));
    });
    assert.deepEqual(
      current().map((m) => m.data),
      [2, 3],
    );
    const kept = current();
    const before = renders;
    act(() => ws.last().deliver(push('channel:news', 'other stream')));
    assert.equal(renders, before, 'another stream does not re-render');
    rerender();
    assert.equal(current(), kept);
    await client.close();
  });

  it('without a stream, holds every message', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    await openClient(client, ws);
    const { result } = renderHook(() => useMessages(client));
    act(() => {
      ws.last().deliver(push('user:alice', 'inbox'));
      ws.last().deliver(push('channel:news', 'channel'));
    });
    assert.deepEqual(
      result.current.map((m: PushMessage) => m.stream),
      ['user:alice', 'channel:news'],
    );
    await client.close();
  });
});

describe('lifeline/react useChannel', () => {
  it('subscribes on mount, switches channels, unsubscribes on unmount', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    await openClient(client, ws);
    const socket = ws.last();
    const { result, rerender, unmount } = renderHook(
      ({ channel }: { channel: string }) => useChannel(client, channel, { max: 5 }),
      { initialProps: { channel: 'news' } },
    );
    assert.deepEqual(
      socket.framesOf('subscribe').map((f) => f.channel),
      ['news'],
    );
    act(() => socket.deliver(push('channel:news', 'hello')));
    assert.deepEqual(
      result.current.map((m) => m.data),
      ['hello'],
    );

    rerender({ channel: 'sports' });
    assert.deepEqual(
      socket.framesOf('unsubscribe').map((f) => f.channel),
      ['news'],
    );
    assert.deepEqual(
      socket.framesOf('subscribe').map((f) => f.channel),
      ['news', 'sports'],
    );
    assert.deepEqual(result.current, [], 'a new channel starts an empty list');

    unmount();
    assert.deepEqual(
      socket.framesOf('unsubscribe').map((f) => f.channel),
      ['news', 'sports'],
    );
    await client.close();
  });

  it('in StrictMode ends up subscribed exactly once', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    await openClient(client, ws);
    const socket = ws.last();
    const { unmount } = renderHook(() => useChannel(client, 'news'), { wrapper: StrictMode });
    // StrictMode mounts, unmounts and mounts again: the last word is a subscribe.
    const ops = socket.frames
      .filter((f) => f.type === 'subscribe' || f.type === 'unsubscribe')
      .map((f) => f.type);
    assert.equal(ops.at(-1), 'subscribe');
    assert.equal(
      ops.filter((t) => t === 'subscribe').length - ops.filter((t) => t === 'unsubscribe').length,
      1,
    );
    unmount();
    assert.equal(socket.framesOf('unsubscribe').length, socket.framesOf('subscribe').length);
    await client.close();
  });
});

describe('lifeline/react useLifeline', () => {
  it('in StrictMode: one client, one socket, closed for good on unmount', async () => {
    const { clock, ws, options } = setup();
    const created: LifelineClient[] = [];
    let seen: UseLifelineResult | undefined;
    function Page(): ReactElement {
      seen = useLifeline(() => {
        const client = createClient(options);
        created.push(client);
        return client;
      });
      return createElement('p', { 'data-testid': 'state' }, seen.state.kind);
    }
    const { unmount } = render(strict(createElement(Page)));
    await act(flushMicrotasks);
    assert.equal(ws.sockets.length, 1, 'the simulated unmount did not close and reopen');
    const client = seen!.client;
    assert.equal(client.state.kind, 'connecting');
    // StrictMode may build the client twice and keep one; the other never started.
    for (const other of created) if (other !== client) assert.equal(other.state.kind, 'idle');

    act(() => ws.last().handshake());
    assert.equal(dom(screen.getByTestId('state')).textContent, 'open');

    unmount();
    await flushMicrotasks();
    assert.equal(client.state.kind, 'closed');
    assert.equal(ws.live, 0);
    assert.equal(clock.pendingTimers, 0);
    clock.advance(10 * 60_000);
    assert.equal(ws.sockets.length, 1, 'nothing reconnects after unmount');
  });
});

describe('lifeline/react against a real gateway', () => {
  it('a StrictMode page shows inbox and channel pushes over one session, gone on unmount', async () => {
    await using fixture = await startGateway();
    let sessionsOpened = 0;
    fixture.gateway.on('opened', () => sessionsOpened++);
    let client: LifelineClient | undefined;

    function News({ client: c }: { client: LifelineClient }): ReactElement {
      const news = useChannel(c, 'news');
      return createElement(
        'ol',
        null,
        news.map((m) => createElement('li', { key: m.id }, String(m.data))),
      );
    }
    function Page(): ReactElement {
      const lifeline = useLifeline({ url: fixture.url, token: 'u:alice', WebSocket });
      client = lifeline.client;
      const inbox = useMessages(lifeline.client, { stream: 'user:alice' });
      return createElement(
        'div',
        null,
        createElement('p', { 'data-testid': 'state' }, lifeline.state.kind),
        createElement(
          'ul',
          { 'data-testid': 'inbox' },
          inbox.map((m) => createElement('li', { key: m.id }, JSON.stringify(m.data))),
        ),
        createElement(News, { client: lifeline.client }),
      );
    }

    const { container, unmount } = render(strict(createElement(Page)));
    await waitFor(() => assert.equal(dom(screen.getByTestId('state')).textContent, 'open'));
    await waitFor(() => assert.equal(fixture.gateway.sessions()[0]?.channels.has('news'), true));

    await fixture.gateway.publish({ to: { user: 'alice' }, data: { title: 'Order shipped' } });
    await fixture.gateway.publish({ to: { channel: 'news' }, data: 'extra' });
    await waitFor(() => {
      assert.deepEqual(texts(container, 'ol li'), ['extra']);
      assert.deepEqual(texts(screen.getByTestId('inbox'), 'li'), ['{"title":"Order shipped"}']);
    });
    assert.equal(sessionsOpened, 1, 'StrictMode did not open a second session');

    unmount();
    await waitFor(() => assert.equal(fixture.gateway.sessions().length, 0));
    assert.equal(client?.state.kind, 'closed');
  });
});
