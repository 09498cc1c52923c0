/**
 * A loopback TCP proxy for fault tests: it forwards bytes between clients and a target
 * port and can be told to misbehave the way real networks do.
 *
 * - `freeze()`: keep every current TCP connection open but stop forwarding on it in both
 *   directions — a half-open connection: no FIN, no RST, no close event on either side.
 *   Connections accepted afterwards forward normally, so a client can reconnect.
 * - `cut()`: destroy every proxied connection at once (a dropped network).
 * - `refuse(true)`: reset new connections as they arrive (gateway unreachable).
 */
import net from 'node:net';

export interface TcpProxy extends AsyncDisposable {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections currently open. */
  readonly open: number;
  freeze(): void;
  cut(): void;
  refuse(on: boolean): void;
  /** Point new connections at another target port. */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let refusing = false;
  let accepted = 0;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean }>();

  const server = net.createServer((client) => {
    accepted++;
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    const pair = { client, upstream, frozen: false };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => {
        if (!pair.frozen) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    refuse(on) {
      refusing = on;
    },
    retarget(next) {
      target = next;
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
