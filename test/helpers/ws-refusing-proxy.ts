/**
 * A loopback proxy that understands just enough HTTP to treat WebSocket upgrades the way
 * hostile networks do, while plain HTTP requests (the polling transport) pass untouched:
 *
 * - `allow`: every connection is forwarded as is;
 * - `refuse`: an upgrade request is answered `403 Forbidden` and closed (a proxy that
 *   forbids WebSocket);
 * - `drop`: the upgrade is forwarded and its `101` answer too, then every byte after it is
 *   dropped in both directions while the connection stays open (a proxy that accepts the
 *   upgrade and then buffers or discards frames).
 *
 * The mode applies to connections as they arrive; `cut()` drops every open connection.
 */
import net from 'node:net';

export type UpgradeMode = 'allow' | 'refuse' | 'drop';

export interface WsRefusingProxy extends AsyncDisposable {
  readonly port: number;
  /** Upgrade requests seen so far, whatever the mode did with them. */
  readonly upgrades: number;
  mode(next: UpgradeMode): void;
  cut(): void;
  close(): Promise<void>;
}

const HEADER_END = '\r\n\r\n';

function isUpgrade(head: string): boolean {
  return /^upgrade:\s*websocket/im.test(head);
}

export async function startWsRefusingProxy(
  targetPort: number,
  initial: UpgradeMode,
): Promise<WsRefusingProxy> {
  let mode = initial;
  let upgrades = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => {});
    client.on('close', () => sockets.delete(client));
    let head = '';
    const onFirst = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes(HEADER_END)) return;
      client.off('data', onFirst);
      client.pause();
      const upgrade = isUpgrade(head.slice(0, head.indexOf(HEADER_END)));
      if (upgrade) upgrades++;
      if (upgrade && mode === 'refuse') {
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      pipe(client, Buffer.from(head, 'latin1'), upgrade && mode === 'drop');
    };
    client.on('data', onFirst);
  });

  function pipe(client: net.Socket, first: Buffer, blackhole: boolean): void {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    if (!blackhole) {
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    // Forward the handshake only: the request head, then the 101 answer's head.
    const end = first.indexOf(HEADER_END) + HEADER_END.length;
    upstream.write(first.subarray(0, end));
    client.on('data', () => {}); // the client's frames go nowhere
    client.resume();
    let answer = '';
    let answered = false;
    upstream.on('data', (chunk: Buffer) => {
      if (answered) return;
      answer += chunk.toString('latin1');
      const at = answer.indexOf(HEADER_END);
      if (at === -1) return;
      answered = true;
      client.write(Buffer.from(answer.slice(0, at + HEADER_END.length), 'latin1'));
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: WsRefusingProxy = {
    port,
    get upgrades() {
      return upgrades;
    },
    mode(next) {
      mode = next;
    },
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
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
