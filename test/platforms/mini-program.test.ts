/**
 * createWechatClient and createUniClient against fakes of `wx` and `uni`: the same
 * scenarios on both platforms, with a fake clock and the test playing the gateway.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HeartbeatTimeoutError,
  UnsupportedError,
  type ConnectionState,
  type LifelineClient,
  type NetworkSource,
} from '../../src/entries/client.js';
import {
  appShown,
  createWechatClient,
  type WechatClientOptions,
} from '../../src/entries/wechat.js';
import { createUniClient } from '../../src/entries/uniapp.js';
import type { MiniProgramHost } from '../../src/platforms/mini-program.js';
import { FakeClock } from '../helpers/fake-clock.js';
import {
  FakeMiniProgram,
  type ApiOptions,
  type FakeHostOptions,
  type ScriptedSocketTask,
} from './fake-socket-task.js';

type Options = Omit<WechatClientOptions, 'wx'>;

const platforms = [
  {
    name: 'wx',
    create: (host: MiniProgramHost | undefined, options: Options): LifelineClient =>
      createWechatClient({ ...options, wx: host }),
  },
  {
    name: 'uni',
    create: (host: MiniProgramHost | undefined, options: Options): LifelineClient =>
      createUniClient({ ...options, uni: host }),
  },
] as const;

const PONG_TIMEOUT_MS = 5_000;

/** The state, read afresh: an assertion on `client.state.kind` narrows the property. */
const stateOf = (client: LifelineClient): ConnectionState => client.state;

for (const platform of platforms) {
  const kind = platform.name;
  const clients: LifelineClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function setup(options: Partial<Options> = {}, host: Partial<FakeHostOptions> & ApiOptions = {}) {
    const fake = new FakeMiniProgram({ kind, ...host });
    const clock = new FakeClock();
    const client = platform.create(fake.api({ without: host.without }), {
      url: 'wss://push.example.com/ws',
      token: 'u:alice',
      clock,
      random: () => 0.5,
      pongTimeoutMs: PONG_TIMEOUT_MS,
      ...options,
    });
    clients.push(client);
    return { fake, clock, client };
  }

  async function open(fake: FakeMiniProgram, client: LifelineClient): Promise<ScriptedSocketTask> {
    const ready = client.connect();
    await fake.settle();
    const task = fake.last();
    await task.handshake();
    await ready;
    return task;
  }

  describe(`${kind}: creating the client`, () => {
    it(`says how to fix a missing ${kind}`, () => {
      assert.throws(
        () => platform.create(undefined, { url: 'wss://push.example.com/ws' }),
        (error: unknown) =>
          error instanceof UnsupportedError &&
          error.message.includes(`${kind}.connectSocket`) &&
          error.message.includes(`\`${kind}\` option`),
      );
    });

    it(`finds the global ${kind}`, async () => {
      const fake = new FakeMiniProgram({ kind });
      const global = globalThis as Record<string, unknown>;
      global[kind] = fake.api();
      try {
        const client = platform.create(undefined, { url: 'wss://push.example.com/ws' });
        clients.push(client);
        client.connect().catch(() => {});
        assert.equal(fake.tasks.length, 1);
      } finally {
        delete global[kind];
      }
    });

    it('registers nothing with the platform before connect() and after close()', async () => {
      const { fake, client } = setup();
      assert.equal(fake.listenerCount, 0);
      await open(fake, client);
      assert.equal(fake.listenerCount, 2, 'app show and network status');
      await client.close();
      await fake.settle();
      assert.equal(fake.listenerCount, 0);
      assert.equal(fake.live, 0);
    });
  });

  describe(`${kind}: the connection`, () => {
    it('offers the subprotocol and the header, opens, receives, closes with 1000', async () => {
      const { fake, clock, client } = setup({ header: { 'X-Tenant': 'shop-1' } });
      const messages: unknown[] = [];
      client.on('message', (m) => messages.push(m.data));
      const task = await open(fake, client);
      assert.deepEqual(task.options.protocols, ['lifeline.v1']);
      assert.deepEqual(task.options.header, { 'X-Tenant': 'shop-1' });
      assert.equal(task.framesOf('hello')[0]?.token, 'u:alice');
      assert.equal(client.state.kind, 'open');

      task.receive({
        type: 'push',
        id: 'm1',
        stream: 'user:alice',
        epoch: 'e',
        offset: 1,
        data: 'order shipped',
        publishedAt: 1,
      });
      await fake.settle();
      assert.deepEqual(messages, ['order shipped']);

      await client.close();
      await fake.settle();
      assert.deepEqual(task.closeCalls, [{ code: 1000, reason: 'normal closure' }]);
      assert.equal(task.state, 'closed');
      assert.equal(clock.pendingTimers, 0);
    });

    it('a failed send drops the connection and reconnects', async () => {
      const { fake, clock, client } = setup();
      const task = await open(fake, client);
      task.failSends('WebSocket is not connected');
      client.send({ type: 'typing' });
      await fake.settle();
      const state = stateOf(client);
      assert.equal(state.kind, 'reconnecting');
      assert.equal(state.lastError.closeCode, 1006);
      assert.equal(task.closeCalls.length, 1, 'the dead task is released');
      clock.advance(state.retryAt - clock.now());
      assert.equal(fake.tasks.length, 2);
    });

    it('an error without a close event still ends the attempt once', async () => {
      const { fake, client } = setup({}, { quirks: { errorWithoutClose: true } });
      const task = await open(fake, client);
      const kinds: string[] = [];
      client.on('state', ({ to }) => kinds.push(to.kind));
      task.fail();
      await fake.settle();
      assert.deepEqual(kinds, ['reconnecting']);
    });
  });

  describe(`${kind}: app show and hide`, () => {
    it('hiding does nothing; showing probes an open connection, which survives a pong', async () => {
      const { fake, clock, client } = setup();
      const task = await open(fake, client);
      fake.hide();
      await fake.settle();
      assert.equal(client.state.kind, 'open');
      assert.deepEqual(task.closeCalls, []);

      fake.show();
      await fake.settle();
      const [ping] = task.framesOf('ping');
      assert.ok(ping !== undefined, 'a liveness check went out');
      task.receive({ type: 'pong', ...(ping.t === undefined ? {} : { t: ping.t }) });
      await fake.settle();
      clock.advance(PONG_TIMEOUT_MS);
      assert.equal(client.state.kind, 'open');
    });

    it('a socket killed silently in the background is replaced after the probe goes unanswered', async () => {
      const { fake, clock, client } = setup();
      const task = await open(fake, client);
      fake.hide();
      task.freeze(); // the platform killed it and told nobody
      fake.show();
      await fake.settle();
      assert.equal(client.state.kind, 'open');
      clock.advance(PONG_TIMEOUT_MS);
      const state = stateOf(client);
      assert.equal(state.kind, 'reconnecting');
      assert.ok(state.lastError instanceof HeartbeatTimeoutError);
      assert.deepEqual(task.closeCalls.at(-1), { code: 4004, reason: 'heartbeat timeout' });
    });

    it('a socket the background interrupted is reconnected on show, without waiting out the backoff', async () => {
      const { fake, client } = setup({ minReconnectDelayMs: 60_000, maxReconnectDelayMs: 60_000 });
      const task = await open(fake, client);
      fake.hide();
      task.interrupt(); // onClose 1000 "interrupted"
      await fake.settle();
      assert.equal(client.state.kind, 'reconnecting', '1000 from the runtime is not a final close');
      assert.equal(fake.tasks.length, 1);
      fake.show();
      await fake.settle();
      assert.equal(client.state.kind, 'connecting');
      assert.equal(fake.tasks.length, 2);
    });

    it('a client that gave up tries again on show', async () => {
      const { fake, client } = setup({ maxReconnectAttempts: 0 });
      const task = await open(fake, client);
      task.serverClose(1006);
      await fake.settle();
      assert.equal(client.state.kind, 'failed');
      fake.show();
      await fake.settle();
      assert.equal(client.state.kind, 'connecting');
    });

    it('a client closed on purpose stays closed on show (the leave flag)', async () => {
      const { fake, client } = setup();
      await open(fake, client);
      await client.close();
      fake.show();
      await fake.settle();
      assert.equal(client.state.kind, 'closed');
      assert.equal(fake.tasks.length, 1);
      assert.equal(fake.live, 0);
    });

    it('without offAppShow the one listener is gated, not piled up', async () => {
      const { fake, client } = setup({}, { without: ['offAppShow', 'offNetworkStatusChange'] });
      for (let round = 0; round < 3; round++) {
        await open(fake, client);
        await client.close();
      }
      assert.equal(fake.listenerCount, 2);
      fake.show();
      await fake.settle();
      assert.equal(client.state.kind, 'closed');
    });

    it('checkOnAppShow: false leaves the app events alone; appShown() does the same by hand', async () => {
      const { fake, client } = setup({ checkOnAppShow: false });
      const task = await open(fake, client);
      assert.equal(fake.listenerCount, 1, 'network status only');
      fake.show();
      await fake.settle();
      assert.equal(task.framesOf('ping').length, 0);
      appShown(client);
      await fake.settle();
      assert.equal(task.framesOf('ping').length, 1);
    });
  });

  describe(`${kind}: network status`, () => {
    it('offline drops the connection at once; online reconnects at once', async () => {
      const { fake, client } = setup({ minReconnectDelayMs: 60_000, maxReconnectDelayMs: 60_000 });
      const task = await open(fake, client);
      fake.setNetwork(false);
      await fake.settle();
      assert.equal(client.state.kind, 'reconnecting');
      assert.equal(task.closeCalls.length, 1);
      fake.setNetwork(true, '4g');
      await fake.settle();
      assert.equal(client.state.kind, 'connecting');
      assert.equal(fake.tasks.length, 2);
    });

    it('a change of network type probes an open connection', async () => {
      const { fake, client } = setup();
      const task = await open(fake, client);
      fake.setNetwork(true, 'wifi');
      await fake.settle();
      assert.equal(task.framesOf('ping').length, 0, 'the first report sets the baseline');
      fake.setNetwork(true, '4g');
      await fake.settle();
      assert.equal(task.framesOf('ping').length, 1);
      assert.equal(client.state.kind, 'open');
    });

    it('a network source of the caller’s replaces the platform’s', async () => {
      const listeners = new Set<string>();
      const network: NetworkSource = {
        addEventListener: (type) => listeners.add(type),
        removeEventListener: (type) => listeners.delete(type),
      };
      const { fake, client } = setup({ network });
      await open(fake, client);
      assert.equal(fake.listenerCount, 1, 'app show only');
      assert.ok(listeners.has('offline'));
    });
  });
}
