/**
 * The HTTP primitive of the polling transport over a mini-program's `request`
 * (`wx.request`, `uni.request`), so a WeChat or uni-app client can fall back to HTTP
 * long-polling where WebSocket does not get through.
 *
 * What the platforms document, and what this adapter makes of it:
 * - `request(options)` returns a `RequestTask` at once and reports later, through
 *   callbacks only. uni-app returns a Promise instead of the task unless a `success`,
 *   `fail` or `complete` callback is given, so both are always passed.
 * - `success({ statusCode, data, header })` comes for every HTTP answer, 4xx and 5xx
 *   included; `fail({ errMsg })` only when there is no answer: the network, a timeout
 *   (`request:fail timeout`), `abort()` (`request:fail abort`), a domain missing from the
 *   app's allow-list.
 * - With the default `dataType: 'json'` the platform parses a JSON body into objects;
 *   the polling transport wants the text it can check itself, so `dataType` is `'text'`
 *   (anything but `'json'` turns parsing off) and `responseType` is `'text'`. A runtime
 *   that parses anyway gets its object serialized back; an `ArrayBuffer` is decoded as
 *   UTF-8.
 * - `timeout` bounds each request (the platforms default to 60 s, or the app's
 *   `networkTimeout.request`): it must be longer than the gateway holds a polling GET.
 * - `RequestTask.abort()` ends the held GET when the client closes or switches back to
 *   WebSocket; a runtime whose task cannot abort lets the request run out, and its answer
 *   is ignored.
 */
import type { HttpRequester, HttpResponse } from '../client/transports/http.js';
import { InvalidOptionError, UnsupportedError } from '../protocol/index.js';
import type { PlatformError } from './socket-task.js';

/**
 * Default of {@link MiniProgramRequestOptions.timeoutMs}, in ms: longer than the gateway
 * holds a polling GET (25 s by default), and the platforms' own default.
 */
export const DEFAULT_POLL_TIMEOUT_MS = 60_000;

/** Longest delay a JavaScript timer can take, in ms (2^31 − 1). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What `success` receives. */
export interface RequestSuccess {
  readonly statusCode: number;
  /** A string with `dataType: 'text'`; an object where a runtime parsed JSON anyway. */
  readonly data: unknown;
  readonly header?: Readonly<Record<string, string>>;
}

/** Argument of `request`. */
export interface RequestCallOptions {
  readonly url: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly header: Record<string, string>;
  /** The body, for POST. */
  readonly data?: string;
  /** `'text'`: do not parse the body as JSON. */
  readonly dataType: string;
  readonly responseType: 'text';
  /** In ms. */
  readonly timeout: number;
  success(result: RequestSuccess): void;
  fail(error: PlatformError): void;
}

/** `wx.request` / `uni.request`. Returns a `RequestTask` (`abort()`), where the runtime has one. */
export type RequestFunction = (options: RequestCallOptions) => unknown;

export interface MiniProgramRequesterOptions {
  /** The host object's name (`wx`, `uni`), for error messages. */
  readonly platform: string;
  /** Extra HTTP headers sent with every request. Credentials belong in `token`. */
  readonly header?: Readonly<Record<string, string>>;
  /**
   * Longest wait for one request, passed as the platform's `timeout`, in ms. Must be
   * longer than the gateway's polling hold (`holdMs`, 25 s by default).
   * @default DEFAULT_POLL_TIMEOUT_MS (60_000)
   */
  readonly timeoutMs?: number;
}

interface TextDecoderLike {
  decode(input: ArrayBuffer): string;
}
type TextDecoderCtor = new (label: string) => TextDecoderLike;

/** The body as text, whatever the runtime made of it; `undefined` when it cannot be read. */
function textOf(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data === undefined || data === null) return '';
  if (data instanceof ArrayBuffer) {
    const Decoder = (globalThis as { TextDecoder?: TextDecoderCtor }).TextDecoder;
    return Decoder === undefined ? undefined : new Decoder('utf-8').decode(data);
  }
  try {
    // A runtime that parsed the JSON body despite `dataType`: the same frames again.
    return JSON.stringify(data);
  } catch {
    return undefined;
  }
}

function hasAbort(task: unknown): task is { abort(): void } {
  return (
    typeof task === 'object' &&
    task !== null &&
    typeof (task as { abort?: unknown }).abort === 'function'
  );
}

/**
 * An {@link HttpRequester} (for `ClientOptions.request`) over a mini-program's `request`
 * function. Each call starts one request; its response settles once, with the status and
 * the body as text, or rejects with the platform's `errMsg`.
 */
export function miniProgramRequester(
  request: RequestFunction,
  options: MiniProgramRequesterOptions,
): HttpRequester {
  if (typeof request !== 'function')
    throw new UnsupportedError(
      `${options.platform}.request is missing: pass the platform's API object.`,
    );
  const timeout = options.timeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= MAX_TIMER_MS))
    throw new InvalidOptionError(
      `pollTimeoutMs must be a number of ms > 0 and ≤ ${MAX_TIMER_MS}, got ${String(timeout)}.`,
    );
  const extra = options.header ?? {};
  return (req) => {
    let settled = false;
    let aborted = false;
    let task: unknown;
    let resolve!: (response: HttpResponse) => void;
    let reject!: (error: Error) => void;
    const response = new Promise<HttpResponse>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      reject(new Error(message));
    };
    try {
      task = request({
        url: req.url,
        method: req.method,
        header: { ...extra, ...req.headers },
        ...(req.body === undefined ? {} : { data: req.body }),
        dataType: 'text',
        responseType: 'text',
        timeout,
        success: (result) => {
          if (settled) return;
          const body = textOf(result?.data);
          const status = result?.statusCode;
          if (body === undefined || typeof status !== 'number') {
            return fail(`${options.platform}.request answered with an unreadable response`);
          }
          settled = true;
          resolve({ status, body });
        },
        fail: (error) => {
          const detail = typeof error?.errMsg === 'string' ? error.errMsg : '';
          fail(detail === '' ? `${options.platform}.request failed` : detail);
        },
      });
    } catch (cause) {
      // Some runtimes throw for a URL or method they refuse, instead of calling `fail`.
      fail(cause instanceof Error ? cause.message : `${options.platform}.request threw`);
    }
    return {
      response,
      abort() {
        if (aborted) return;
        aborted = true;
        fail('request:fail abort');
        if (hasAbort(task)) {
          try {
            task.abort();
          } catch {
            // A task that cannot be aborted runs out; its answer is ignored.
          }
        }
      },
    };
  };
}
