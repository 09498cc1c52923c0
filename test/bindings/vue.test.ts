import { unregisterDom } from './dom.js';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mount } from '@vue/test-utils';
import {
  defineComponent,
  effectScope,
  h,
  isReadonly,
  isRef,
  nextTick,
  ref,
  type PropType,
  type Ref,
} from 'vue';
import { WebSocket } from 'ws';
import {
  useChannel,
  useLifeline,
  useLifelineState,
  type UseLifelineResult,
} from '../../src/entries/vue.js';
import {
  ClientClosedError,
  UnsupportedError,
  createClient,
  type ClientOptions,
  type LifelineClient,
} from '../../src/entries/client.js';
import type { ServerFrame } from '../../src/protocol/index.js';
import { FakeClock, flushMicrotasks } from '../helpers/fake-clock.js';
import { fakeWebSocket, type FakeSocket } from '../helpers/fake-websocket.js';
import { startGateway, waitFor } from '../server/fixtures.js';

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

/** Answer every subscribe / unsubscribe the client sent so far. */
function confirm(socket: FakeSocket): void {
  for (const frame of socket.frames) {
    if (frame.type === 'subscribe' || frame.type === 'unsubscribe')
      socket.deliver({ type: 'reply', id: frame.id, ok: true });
  }
}

/** A page that owns a connection and lists what arrives. */
function inboxPage(source: ClientOptions | LifelineClient, seen: { result?: UseLifelineResult }) {
  return defineComponent({
    setup() {
      const result = useLifeline(source, { maxMessages: 3 });
      seen.result = result;
      return () =>
        h('div', [
          h('p', { class: 'state' }, result.state.value.kind),
          h(
            'ul',
            result.messages.value.map((m) => h('li', String(m.data))),
          ),
        ]);
    },
  });
}

const ChannelList = defineComponent({
  props: {
    client: { type: Object as PropType<LifelineClient>, required: true },
    channel: { type: Object as PropType<Ref<string>>, required: true },
  },
  setup(props) {
    const messages = useChannel(props.client, props.channel, { max: 2 });
    return () =>
      h(
        'ol',
        messages.value.map((m) => h('li', String(m.data))),
      );
  },
});

describe('lifeline/vue useLifeline', () => {
  it('connects on mount, renders state and messages, and closes for good on unmount', async () => {
    const { clock, ws, options } = setup();
    const seen: { result?: UseLifelineResult } = {};
    const wrapper = mount(inboxPage(options, seen));
    const result = seen.result!;
    assert.equal(ws.sockets.length, 1);
    assert.equal(wrapper.find('.state').text(), 'connecting');

    ws.last().handshake();
    await nextTick();
    assert.equal(wrapper.find('.state').text(), 'open');

    for (const n of [1, 2, 3, 4]) ws.last().deliver(push('user:alice', `hello ${n}`));
    await nextTick();
    assert.deepEqual(
      wrapper.findAll('li').map((li) => li.text()),
      ['hello 2', 'hello 3', 'hello 4'],
    );

    wrapper.unmount();
    assert.equal(result.client.state.kind, 'closed');
    assert.equal(result.state.value.kind, 'closed');
    assert.deepEqual(
      ws.last().closeCalls.map((c) => c.code),
      [1000],
    );
    await flushMicrotasks();
    assert.equal(ws.live, 0);
    assert.equal(clock.pendingTimers, 0);

    // The leave flag: nothing brings it back, not time and not the composable's connect().
    clock.advance(10 * 60_000);
    await assert.rejects(result.connect(), ClientClosedError);
    assert.equal(ws.sockets.length, 1);
    assert.equal(result.client.state.kind, 'closed');
  });

  it('logging out stops reconnecting; connect() logs in again', async () => {
    const { clock, ws, options } = setup();
    const seen: { result?: UseLifelineResult } = {};
    const wrapper = mount(inboxPage(options, seen));
    const result = seen.result!;
    ws.last().handshake();
    ws.last().finishClose(1006); // the network dropped: the client wants to reconnect
    assert.equal(result.state.value.kind, 'reconnecting');

    await result.close(); // logout
    assert.equal(result.state.value.kind, 'closed');
    clock.advance(10 * 60_000);
    assert.equal(ws.sockets.length, 1);

    const ready = result.connect(); // login
    ws.last().handshake();
    await ready;
    assert.equal(ws.sockets.length, 2);
    await nextTick();
    assert.equal(wrapper.find('.state').text(), 'open');
    wrapper.unmount();
    assert.equal(result.client.state.kind, 'closed');
  });

  it('adopts a client, and gives state as a read-only ref holding the client’s own object', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    const seen: { result?: UseLifelineResult } = {};
    const wrapper = mount(inboxPage(client, seen));
    const result = seen.result!;
    assert.equal(result.client, client);
    assert.ok(isRef(result.state) && isReadonly(result.state));
    ws.last().handshake();
    assert.equal(result.state.value, client.state);
    assert.equal(result.state.value.kind, 'open');
    wrapper.unmount();
    assert.equal(client.state.kind, 'closed');
  });

  it('refuses to run outside a component or effect scope, where it could never close', () => {
    const { options } = setup();
    assert.throws(() => useLifeline(options), UnsupportedError);
    assert.throws(() => useLifelineState(createClient(options)), UnsupportedError);
  });
});

describe('lifeline/vue useLifelineState', () => {
  it('follows a client it does not own and never closes it', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    const scope = effectScope();
    const state = scope.run(() => useLifelineState(client))!;
    // Read through a function: each assertion narrows a plain property access.
    const kind = (): string => state.value.kind;
    assert.equal(kind(), 'idle');
    const ready = client.connect();
    assert.equal(kind(), 'connecting');
    ws.last().handshake();
    await ready;
    assert.equal(kind(), 'open');
    scope.stop();
    assert.equal(client.state.kind, 'open');
    ws.last().finishClose(1006);
    assert.equal(client.state.kind, 'reconnecting');
    assert.equal(kind(), 'open', 'a stopped scope no longer follows');
    await client.close();
  });
});

describe('lifeline/vue useChannel', () => {
  it('subscribes while mounted, keeps the last N of its channel, follows a ref, unsubscribes on unmount', async () => {
    const { ws, options } = setup();
    const client = createClient(options);
    const channel = ref('news');
    const shown = ref(true);
    const Page = defineComponent({
      setup() {
        const { client: owned } = useLifeline(client);
        return () => (shown.value ? h(ChannelList, { client: owned, channel }) : h('p', 'none'));
      },
    });
    const wrapper = mount(Page);
    const socket = ws.last();
    socket.handshake();
    assert.deepEqual(
      socket.framesOf('subscribe').map((f) => f.channel),
      ['news'],
    );
    confirm(socket);

    for (const n of [1, 2, 3]) socket.deliver(push('channel:news', `news ${n}`));
    socket.deliver(push('channel:sports', 'not subscribed'));
    socket.deliver(push('user:alice', 'inbox'));
    await nextTick();
    assert.deepEqual(
      wrapper.findAll('ol li').map((li) => li.text()),
      ['news 2', 'news 3'],
    );

    channel.value = 'sports';
    assert.deepEqual(
      socket.framesOf('unsubscribe').map((f) => f.channel),
      ['news'],
    );
    assert.deepEqual(
      socket.framesOf('subscribe').map((f) => f.channel),
      ['news', 'sports'],
    );
    await nextTick();
    assert.equal(wrapper.findAll('ol li').length, 0, 'a new channel starts an empty list');
    socket.deliver(push('channel:sports', 'goal'));
    await nextTick();
    assert.deepEqual(
      wrapper.findAll('ol li').map((li) => li.text()),
      ['goal'],
    );

    shown.value = false; // the list goes, the page (and its connection) stays
    await nextTick();
    assert.deepEqual(
      socket.framesOf('unsubscribe').map((f) => f.channel),
      ['news', 'sports'],
    );
    assert.equal(client.state.kind, 'open');
    wrapper.unmount();
    assert.equal(client.state.kind, 'closed');
  });
});

describe('lifeline/vue against a real gateway', () => {
  it('shows inbox and channel pushes, and the gateway sees the session end on unmount', async () => {
    await using fixture = await startGateway();
    const seen: { result?: UseLifelineResult } = {};
    const channel = ref('news');
    const Page = defineComponent({
      setup() {
        const result = useLifeline({ url: fixture.url, token: 'u:alice', WebSocket });
        seen.result = result;
        return () =>
          h('div', [
            h('p', { class: 'state' }, result.state.value.kind),
            h(
              'ul',
              result.messages.value.map((m) => h('li', JSON.stringify(m.data))),
            ),
            h(ChannelList, { client: result.client, channel }),
          ]);
      },
    });
    const wrapper = mount(Page);
    await waitFor(() => assert.equal(wrapper.find('.state').text(), 'open'));
    await waitFor(() => assert.equal(fixture.gateway.sessions()[0]?.channels.has('news'), true));

    await fixture.gateway.publish({ to: { user: 'alice' }, data: { title: 'Order shipped' } });
    await fixture.gateway.publish({ to: { channel: 'news' }, data: 'extra' });
    await waitFor(() => {
      assert.deepEqual(
        wrapper.findAll('ol li').map((li) => li.text()),
        ['extra'],
      );
      assert.deepEqual(
        wrapper.findAll('ul li').map((li) => li.text()),
        ['{"title":"Order shipped"}', '"extra"'],
      );
    });

    wrapper.unmount();
    assert.equal(seen.result!.client.state.kind, 'closed');
    await waitFor(() => assert.equal(fixture.gateway.sessions().length, 0));
  });
});
