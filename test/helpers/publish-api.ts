/**
 * Publishing through the HTTP API (`POST /api/publish`) the way a backend does, retrying
 * while the gateway is down.
 *
 * Only a refused connection is retried: then the request never reached a process, so
 * nothing was published. A connection that broke after the request was sent (the process
 * died while handling it) is ambiguous — the message may have been stored — and
 * re-sending it could publish it twice, so it is reported as `unknown` for the caller to
 * settle from what the recipients saw, never retried.
 */
import { request } from 'node:http';

export interface PublishedPosition {
  readonly stream: string;
  readonly epoch: string;
  readonly offset: number;
}

/** The body of a 200 answer to `POST /api/publish`. */
export interface PublishAnswer {
  readonly id: string;
  readonly positions: readonly PublishedPosition[];
  readonly delivered: number;
}

export type PublishTarget =
  { readonly user: string } | { readonly users: readonly string[] } | { readonly channel: string };

/** How a publish ended: acknowledged by the gateway, or cut off with its fate unknown. */
export type PublishOutcome =
  | { readonly kind: 'acknowledged'; readonly answer: PublishAnswer; readonly refused: number }
  | { readonly kind: 'unknown'; readonly error: Error; readonly refused: number };

export interface PublishApi {
  /**
   * Publish `data` to `to`, retrying refused connections until `deadline` (ms since the
   * epoch); `refused` counts them. Rejects on an HTTP error status or at the deadline.
   */
  publish(to: PublishTarget, data: unknown, deadline: number): Promise<PublishOutcome>;
}

/** Retry delay after a refused connection, in ms. */
const RETRY_DELAY_MS = 20;
/** Longest wait for one answer, in ms. */
const REQUEST_TIMEOUT_MS = 10_000;

function post(url: string, apiKey: string, body: string): Promise<PublishAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/publish`,
      {
        method: 'POST',
        // A fresh connection per publish: a kept-alive socket to a process that was just
        // killed would fail ambiguously instead of being refused.
        agent: false,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          connection: 'close',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`POST /api/publish answered ${res.statusCode}: ${text}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as PublishAnswer);
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    // A gateway that takes the request and never answers must not hang the caller.
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`POST /api/publish: no answer within ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** The connection was never made: nothing reached a gateway. */
function isRefused(error: unknown): boolean {
  return codeOf(error) === 'ECONNREFUSED';
}

/** The connection broke after the request was written, before a complete answer. */
function isBroken(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** A publisher for the gateway at `url` (`http://host:port`) with API key `apiKey`. */
export function publishApi(url: string, apiKey: string): PublishApi {
  return {
    async publish(to, data, deadline) {
      const body = JSON.stringify({ to, data });
      for (let refused = 0; ; refused++) {
        try {
          return { kind: 'acknowledged', answer: await post(url, apiKey, body), refused };
        } catch (error) {
          if (isBroken(error)) return { kind: 'unknown', error: error as Error, refused };
          if (!isRefused(error)) throw error;
          if (Date.now() >= deadline) {
            throw new Error(
              `publishing ${body}: the gateway refused connections until the deadline`,
            );
          }
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    },
  };
}
