/**
 * Shared fixture of the client unit tests: a client wired to a fake clock, a fake
 * WebSocket and a fake network, with its state stream, messages and errors recorded.
 */
import {
  createClient,
  type ClientOptions,
  type ConnectionState,
  type LifelineClient,
  type LifelineError,
  type NetworkSource,
  type PushMessage,
} from '../../src/entries/client.js';
import { FakeClock, flushMicrotasks } from '../helpers/fake-clock.js';
import { fakeWebSocket, type FakeWebSocketRegistry } from '../helpers/fake-websocket.js';

export { flushMicrotasks };

/** An `online` / `offline` source that counts its listeners. */
export class FakeNetwork implements NetworkSource {
  #listeners = new Map<string, Set<(event: unknown) => void>>();

  addEventListener(type: string, listener: (event: unknown) => void): void {
    let set = this.#listeners.get(type);
    if (set === undefined) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  removeEventListener(type: string, listener: (event: unknown) => void): void {
    this.#listeners.get(type)?.delete(listener);
  }

  emit(type: 'online' | 'offline'): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener({ type });
  }

  get listenerCount(): number {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
}

/** A small deterministic PRNG (mulberry32), so jitter is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Fixture {
  readonly clock: FakeClock;
  readonly ws: FakeWebSocketRegistry;
  readonly network: FakeNetwork;
  readonly client: LifelineClient;
  /** Every state entered, in order. */
  readonly states: ConnectionState[];
  readonly messages: PushMessage[];
  readonly errors: LifelineError[];
  kinds(): string[];
}

export const URL = 'wss://gateway.test/ws';

export function setup(options: Partial<ClientOptions> = {}): Fixture {
  const clock = new FakeClock();
  const ws = fakeWebSocket();
  const network = new FakeNetwork();
  const client = createClient({
    url: URL,
    WebSocket: ws.WebSocket,
    clock,
    network,
    random: seededRandom(42),
    ...options,
  });
  const states: ConnectionState[] = [];
  const messages: PushMessage[] = [];
  const errors: LifelineError[] = [];
  client.on('state', ({ to }) => states.push(to));
  client.on('message', (m) => messages.push(m));
  client.on('error', (e) => errors.push(e));
  return {
    clock,
    ws,
    network,
    client,
    states,
    messages,
    errors,
    kinds: () => states.map((s) => s.kind),
  };
}

/** Start connecting without awaiting; the promise's rejection is the test's business elsewhere. */
export function begin(f: Fixture): void {
  f.client.connect().catch(() => {});
}

/** Connect and complete the handshake on the newest socket. */
export async function open(f: Fixture): Promise<void> {
  const ready = f.client.connect();
  await flushMicrotasks(); // a token function resolves first
  f.ws.last().handshake();
  await ready;
}

/** The state after narrowing, or a failed assertion. */
export function stateOf<K extends ConnectionState['kind']>(
  client: LifelineClient,
  kind: K,
): Extract<ConnectionState, { kind: K }> {
  const state = client.state;
  if (state.kind !== kind) throw new Error(`expected state ${kind}, got ${state.kind}`);
  return state as Extract<ConnectionState, { kind: K }>;
}
