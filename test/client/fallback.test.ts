/**
 * The fallback policy on a fake clock: when the client leaves WebSocket for polling, how
 * it probes its way back, and what it remembers across page loads. The gateway is played
 * by a fake WebSocket and a fake HTTP requester.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ClientOptions,
  HttpRequest,
  HttpRequester,
  HttpResponse,
  PositionStorage,
} from '../../src/entries/client.js';
import { MAX_TOKEN_LENGTH } from '../../src/protocol/index.js';
import { WELCOME } from '../helpers/fake-websocket.js';
import { begin, flushMicrotasks, setup, URL, type Fixture } from './support.js';

interface Pending {
  readonly request: HttpRequest;
  readonly answer: (response: HttpResponse) => void;
  aborted: boolean;
}

/** HTTP requests held until the test answers them. */
class FakeHttp {
  readonly pending: Pending[] = [];

  readonly requester: HttpRequester = (request) => {
    let answer!: (response: HttpResponse) => void;
    const response = new Promise<HttpResponse>((resolve) => (answer = resolve));
    const entry: Pending = { request, answer, aborted: false };
    this.pending.push(entry);
    return {
      response,
      abort: () => {
        entry.aborted = true;
      },
    };
  };

  /** Answer the waiting `POST …/poll/open` with a session and its `welcome`. */
  async welcome(): Promise<void> {
    await flushMicrotasks();
    const open = this.pending.find((p) => p.request.url.includes('/poll/open') && !p.aborted);
    assert.ok(open, 'a polling session is being opened');
    this.pending.splice(this.pending.indexOf(open), 1);
    open.answer({ status: 200, body: JSON.stringify({ sid: 'p-1', frames: [WELCOME] }) });
    await flushMicrotasks();
  }
}

/** A `localStorage` stand-in. */
class MemoryStorage implements PositionStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

const MEMORY_KEY = `lifeline:transport:${URL}`;

function fixture(options: Partial<ClientOptions> = {}): Fixture & { http: FakeHttp } {
  const http = new FakeHttp();
  // A long connect timeout keeps it out of the way of the fallback timers.
  return { http, ...setup({ request: http.requester, connectTimeoutMs: 60_000, ...options }) };
}

/** The transport of every `connecting` state so far. */
function attempts(f: Fixture): string[] {
  return f.states.flatMap((s) => (s.kind === 'connecting' ? [s.transport] : []));
}

/** Let the newest WebSocket attempt fail the way a refused upgrade does. */
async function failSocket(f: Fixture): Promise<void> {
  await flushMicrotasks();
  f.ws.last().fail();
  await flushMicrotasks();
}

/** Fall back to polling (one failed WebSocket attempt) and open there. */
async function openOnPolling(f: Fixture & { http: FakeHttp }): Promise<void> {
  begin(f);
  await failSocket(f);
  f.clock.advance(0);
  await f.http.welcome();
  assert.deepEqual(f.client.state.kind === 'open' && f.client.state.transport, 'polling');
}

describe("fallback: 'auto'", () => {
  it('falls back after fallbackAfterFailures failed attempts, without a backoff wait', async () => {
    const f = fixture({ fallbackAfterFailures: 3, minReconnectDelayMs: 1_000 });
    begin(f);
    for (let i = 0; i < 3; i++) {
      await failSocket(f);
      f.clock.advance(1_000 * 2 ** i); // the backoff window of attempt i + 1
    }
    assert.deepEqual(attempts(f), ['websocket', 'websocket', 'websocket', 'polling']);
    const last = f.states.filter((s) => s.kind === 'reconnecting').at(-1);
    assert.ok(last?.kind === 'reconnecting');
    await f.http.welcome();
    assert.equal(f.client.state.kind, 'open');
    await f.client.close();
  });

  it('switches at once: the reconnect after the last failure is due immediately', async () => {
    const f = fixture({ fallbackAfterFailures: 1 });
    begin(f);
    await failSocket(f);
    const state = f.client.state;
    assert.ok(state.kind === 'reconnecting');
    assert.equal(state.retryAt, f.clock.now());
    f.clock.advance(0);
    assert.deepEqual(attempts(f), ['websocket', 'polling']);
    await f.client.close();
  });

  it('falls back when a socket is not open within fallbackAfterMs', async () => {
    const f = fixture({ fallbackAfterMs: 5_000, fallbackAfterFailures: 3 });
    begin(f);
    await flushMicrotasks();
    const silent = f.ws.last(); // upgraded by nobody: neither open nor closed
    f.clock.advance(4_999);
    assert.deepEqual(attempts(f), ['websocket']);
    f.clock.advance(1);
    f.clock.advance(0);
    assert.deepEqual(attempts(f), ['websocket', 'polling']);
    assert.equal(silent.closeCalls.length, 1, 'the silent socket was closed');
    await f.client.close();
  });
});

describe("fallback: 'never' and 'immediate'", () => {
  it("'never' stays on WebSocket however often it fails", async () => {
    const f = fixture({
      fallback: 'never',
      fallbackAfterFailures: 1,
      minReconnectDelayMs: 10,
      maxReconnectDelayMs: 10,
    });
    begin(f);
    for (let i = 0; i < 5; i++) {
      await failSocket(f);
      f.clock.advance(10);
    }
    assert.deepEqual(new Set(attempts(f)), new Set(['websocket']));
    assert.equal(f.http.pending.length, 0);
    await f.client.close();
  });

  it("'immediate' starts on polling and probes WebSocket at once", async () => {
    const f = fixture({ fallback: 'immediate' });
    begin(f);
    assert.deepEqual(attempts(f), ['polling']);
    await f.http.welcome();
    assert.equal(f.ws.sockets.length, 0);
    f.clock.advance(0);
    assert.equal(f.ws.sockets.length, 1, 'the first probe does not wait');
    await f.client.close();
  });
});

describe('WebSocket probes while on polling', () => {
  it('back off from probeIntervalMs, doubling per failed probe up to maxProbeIntervalMs', async () => {
    const f = fixture({
      fallbackAfterFailures: 1,
      probeIntervalMs: 1_000,
      maxProbeIntervalMs: 4_000,
    });
    await openOnPolling(f);
    for (const delayMs of [1_000, 2_000, 4_000, 4_000]) {
      const before = f.ws.sockets.length;
      f.clock.advance(delayMs - 1);
      assert.equal(f.ws.sockets.length, before, `no probe before ${delayMs} ms`);
      f.clock.advance(1);
      assert.equal(f.ws.sockets.length, before + 1, `a probe after ${delayMs} ms`);
      await failSocket(f);
    }
    assert.equal(f.client.state.kind === 'open' && f.client.state.transport, 'polling');
    await f.client.close();
  });

  it('a probe that does not open within fallbackAfterMs fails and is closed', async () => {
    const f = fixture({ fallbackAfterFailures: 1, probeIntervalMs: 1_000, fallbackAfterMs: 500 });
    await openOnPolling(f);
    f.clock.advance(1_000);
    const probe = f.ws.last();
    f.clock.advance(500);
    assert.equal(probe.closeCalls.length, 1);
    f.clock.advance(1_999);
    // Sockets: the failed first attempt, the probe, and now the next probe.
    assert.equal(f.ws.sockets.length, 2, 'the next probe waits twice as long');
    f.clock.advance(1);
    assert.equal(f.ws.sockets.length, 3);
    await f.client.close();
  });

  it('a probe fails without a socket when the token function returns a token too long to send', async () => {
    let calls = 0;
    // The first WebSocket attempt and the polling session get a usable token, the probe not.
    const token = async (): Promise<string> =>
      ++calls > 2 ? 'x'.repeat(MAX_TOKEN_LENGTH + 1) : 'token';
    const f = fixture({ fallbackAfterFailures: 1, probeIntervalMs: 1_000, token });
    await openOnPolling(f);
    const sockets = f.ws.sockets.length;
    f.clock.advance(1_000);
    await flushMicrotasks();
    assert.equal(calls, 3, 'the probe asked for a token');
    assert.equal(f.ws.sockets.length, sockets, 'and opened no socket with it');
    assert.equal(f.client.state.kind === 'open' && f.client.state.transport, 'polling');
    // A failed probe: the next one waits twice as long.
    f.clock.advance(1_999);
    await flushMicrotasks();
    assert.equal(calls, 3);
    f.clock.advance(1);
    await flushMicrotasks();
    assert.equal(calls, 4);
    await f.client.close();
  });

  it('a probe whose session is open and answers a ping takes over the session', async () => {
    const storage = new MemoryStorage();
    const f = fixture({ fallbackAfterFailures: 1, probeIntervalMs: 1_000, storage });
    await openOnPolling(f);
    assert.notEqual(storage.items.get(MEMORY_KEY) ?? '', '');
    f.clock.advance(1_000);
    const probe = f.ws.last();
    probe.open();
    assert.equal(probe.framesOf('hello').length, 1);
    probe.deliver({ ...WELCOME, session: 's-probe' });
    const ping = probe.framesOf('ping')[0];
    assert.ok(ping !== undefined, 'the probe pings after welcome');
    probe.deliver({ type: 'pong', t: ping.t });
    const state = f.client.state;
    assert.ok(state.kind === 'open');
    assert.equal(state.transport, 'websocket');
    assert.equal(state.session.id, 's-probe');
    assert.equal(storage.items.get(MEMORY_KEY), '', 'WebSocket is remembered working again');
    // The polling session was let go: its held GET aborted, a DELETE sent.
    assert.ok(f.http.pending.filter((p) => p.request.method === 'GET').every((p) => p.aborted));
    assert.equal(f.http.pending.filter((p) => p.request.method === 'DELETE').length, 1);
    await f.client.close();
    await flushMicrotasks();
    assert.equal(f.clock.pendingTimers, 0);
    assert.equal(f.ws.live, 0);
  });
});

describe('the remembered outcome', () => {
  it('starts the next page load on polling until transportMemoryMs has passed', async () => {
    const storage = new MemoryStorage();
    const first = fixture({ fallbackAfterFailures: 1, storage, transportMemoryMs: 60_000 });
    begin(first);
    await failSocket(first);
    await first.client.close();
    assert.notEqual(storage.items.get(MEMORY_KEY) ?? '', '');

    const reload = fixture({ storage, transportMemoryMs: 60_000 });
    begin(reload);
    assert.deepEqual(attempts(reload), ['polling']);
    await reload.client.close();

    // A page load a minute later tries WebSocket again (each fake clock starts at the same time).
    const later = fixture({ storage, transportMemoryMs: 60_000 });
    later.clock.jump(60_000);
    begin(later);
    assert.deepEqual(attempts(later), ['websocket']);
    await later.client.close();
  });

  it('is not kept with transportMemoryMs: 0, and not refreshed by reading it', async () => {
    const storage = new MemoryStorage();
    const off = fixture({ fallbackAfterFailures: 1, storage, transportMemoryMs: 0 });
    begin(off);
    await failSocket(off);
    await off.client.close();
    assert.equal(storage.items.has(MEMORY_KEY), false);

    const stored = JSON.stringify({ v: 1, failedAt: off.clock.now() });
    storage.setItem(MEMORY_KEY, stored);
    const reload = fixture({ storage });
    begin(reload);
    assert.deepEqual(attempts(reload), ['polling']);
    assert.equal(storage.items.get(MEMORY_KEY), stored);
    await reload.client.close();
  });
});
