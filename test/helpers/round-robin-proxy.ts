/**
 * An HTTP load balancer without stickiness: requests go to the upstreams in turn,
 * whatever session they belong to. Each method takes its own turns, so that a client
 * alternating GET and POST still sends both kinds to every upstream. An upstream that refuses the connection is
 * skipped (the body is buffered, so the request can be sent again), as a balancer's
 * health check would; an upstream that dies mid-request gives the client a 502.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoutedRequest {
  readonly upstream: number;
  readonly method: string;
  readonly url: string;
  /** The upstream's status code. */
  readonly status: number;
}

export interface RoundRobinProxy extends AsyncDisposable {
  readonly port: number;
  /** Every request forwarded, with the port of the upstream that answered it. */
  readonly routed: readonly RoutedRequest[];
}

export async function startRoundRobinProxy(upstreams: readonly number[]): Promise<RoundRobinProxy> {
  const routed: RoutedRequest[] = [];
  const turns = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), 0));
  });

  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    tried: number,
  ): void {
    const turn = turns.get(req.method ?? '') ?? 0;
    turns.set(req.method ?? '', turn + 1);
    const port = upstreams[turn % upstreams.length] ?? 0;
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${port}`, connection: 'close' },
      },
      (answer) => {
        routed.push({
          upstream: port,
          method: req.method ?? '',
          url: req.url ?? '',
          status: answer.statusCode ?? 0,
        });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' && tried + 1 < upstreams.length) {
        forward(req, res, body, tried + 1);
      } else if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      } else {
        res.destroy();
      }
    });
    // The client gave up (an aborted long poll): give up upstream too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    routed,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
