/**
 * The one HTTP primitive the polling transport needs, and its implementation over
 * `fetch`. Hosts without `fetch` (mini-programs) pass a small {@link HttpRequester} over
 * their own request function (`wx.request`, `uni.request`) instead.
 */

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Text to send; absent for GET and DELETE. */
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** The response body as text (`''` when there is none). */
  readonly body: string;
}

/** A request under way: its response, and a way to give up on it. */
export interface HttpExchange {
  /** Rejects on a network failure or after `abort()`. */
  readonly response: Promise<HttpResponse>;
  /** Give up on the request; idempotent. Hosts that cannot abort may do nothing. */
  abort(): void;
}

/** Starts one HTTP request. */
export type HttpRequester = (request: HttpRequest) => HttpExchange;

/** The part of `fetch` Lifeline uses. */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal?: unknown;
    cache?: 'no-store';
  },
) => Promise<{ readonly status: number; text(): Promise<string> }>;

interface AbortControllerLike {
  readonly signal: unknown;
  abort(): void;
}

type AbortControllerCtor = new () => AbortControllerLike;

/** An {@link HttpRequester} over `fetch`; aborts with `AbortController` where the host has one. */
export function fetchRequester(fetch: FetchLike): HttpRequester {
  const Controller = (globalThis as { AbortController?: AbortControllerCtor }).AbortController;
  return (request) => {
    const controller = Controller === undefined ? undefined : new Controller();
    const response = fetch(request.url, {
      method: request.method,
      headers: { ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(controller === undefined ? {} : { signal: controller.signal }),
      cache: 'no-store',
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
    return { response, abort: () => controller?.abort() };
  };
}
