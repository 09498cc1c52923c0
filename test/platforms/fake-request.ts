/**
 * A faithful fake of `wx.request` / `uni.request`, carried by real HTTP (`node:http`), with
 * the semantics the platforms document:
 *
 * - `request(options)` returns a `RequestTask` at once (uni-app: only when a `success`,
 *   `fail` or `complete` callback is given; otherwise a Promise). Every callback runs
 *   later, as a macrotask, and `complete` after `success` / `fail`.
 * - `success({ data, statusCode, header, cookies, errMsg: 'request:ok' })` for every HTTP
 *   answer, 4xx and 5xx included; `fail({ errMsg: 'request:fail …' })` only without one:
 *   a refused or broken connection, `timeout` ms passed (`request:fail timeout`),
 *   `abort()` (`request:fail abort`), the network down, an invalid method or URL.
 * - `method` is upper case, `GET` by default. `data`: a string is sent as is; an object
 *   becomes the query string of a GET, else JSON. `header['content-type']` defaults to
 *   `application/json`.
 * - `dataType` `'json'` (the default) parses a JSON body into objects and leaves other
 *   text alone; any other value leaves the body a string. `responseType` `'arraybuffer'`
 *   gives an `ArrayBuffer`, `'text'` (the default) a string.
 * - `timeout` in ms, 60,000 by default.
 *
 * Quirks some runtimes have, switchable: parsing JSON whatever `dataType` says, and
 * answering in an `ArrayBuffer` whatever `responseType` says.
 */
import http from 'node:http';
import type { PlatformError } from '../../src/platforms/socket-task.js';
import type { EventLoop } from './fake-socket-task.js';

/** The platforms' default `timeout`, in ms. */
const DEFAULT_TIMEOUT_MS = 60_000;
const METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);

export interface RequestQuirks {
  /** JSON bodies are parsed even with `dataType: 'text'`. */
  parsesJsonAlways?: boolean;
  /** Bodies arrive as `ArrayBuffer` even with `responseType: 'text'`. */
  answersArrayBuffer?: boolean;
}

export interface FakeRequestOptions {
  url?: unknown;
  method?: unknown;
  header?: Record<string, string>;
  data?: unknown;
  dataType?: string;
  responseType?: string;
  timeout?: number;
  success?(result: {
    data: unknown;
    statusCode: number;
    header: Record<string, string>;
    cookies: string[];
    errMsg: string;
  }): void;
  fail?(error: PlatformError): void;
  complete?(): void;
}

/** One call as the runtime saw it. */
export interface RecordedRequest {
  readonly url: string;
  readonly method: string;
  readonly header: Record<string, string>;
  readonly data: unknown;
  readonly dataType: string | undefined;
  readonly responseType: string | undefined;
  readonly timeout: number | undefined;
  /** How it ended: `request:ok` or the `fail` errMsg; undefined while in flight. */
  outcome: string | undefined;
}

export interface FakeRequestTask {
  abort(): void;
  onHeadersReceived(listener: (result: { header: Record<string, string> }) => void): void;
  offHeadersReceived(listener?: (result: { header: Record<string, string> }) => void): void;
}

function bodyOf(method: string, data: unknown, header: Record<string, string>, url: URL): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  if (method === 'GET') {
    for (const [key, value] of Object.entries(data as Record<string, unknown>))
      url.searchParams.set(key, String(value));
    return '';
  }
  const type = Object.entries(header).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (type === undefined || type.includes('json')) return JSON.stringify(data);
  return new URLSearchParams(data as Record<string, string>).toString();
}

export class FakeRequestApi {
  /** Every call, in order. */
  readonly calls: RecordedRequest[] = [];
  #inFlight = 0;
  #peak = 0;
  #online = true;
  readonly #live = new Set<(errMsg: string) => void>();

  constructor(
    private readonly loop: EventLoop,
    private readonly kind: 'wx' | 'uni',
    readonly quirks: RequestQuirks = {},
  ) {}

  /** Requests started and not yet answered or failed. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Most requests in flight at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** While offline, every request fails at once. */
  setOnline(online: boolean): void {
    this.#online = online;
  }

  /**
   * The runtime ends every request in flight, the way a suspended app's requests end
   * (`request:fail interrupted`).
   */
  interruptAll(errMsg = 'request:fail interrupted'): void {
    for (const end of [...this.#live]) end(errMsg);
  }

  request(options: FakeRequestOptions): FakeRequestTask | Promise<unknown> {
    if (
      this.kind === 'uni' &&
      options.success === undefined &&
      options.fail === undefined &&
      options.complete === undefined
    ) {
      // uni-app's promise style: no RequestTask for the caller.
      return Promise.resolve({ errMsg: 'request:ok' });
    }
    const method = options.method === undefined ? 'GET' : options.method;
    const header = { ...(options.header ?? {}) };
    const record: RecordedRequest = {
      url: String(options.url),
      method: String(method),
      header,
      data: options.data,
      dataType: options.dataType,
      responseType: options.responseType,
      timeout: options.timeout,
      outcome: undefined,
    };
    this.calls.push(record);
    let ended = false;
    this.#inFlight++;
    this.#peak = Math.max(this.#peak, this.#inFlight);
    // Filled in below; `finish` may run before (an invalid URL fails at once).
    const io: { request?: http.ClientRequest; timer?: NodeJS.Timeout } = {};

    const finish = (report: () => void, outcome: string): void => {
      if (ended) return;
      ended = true;
      this.#live.delete(failWith);
      clearTimeout(io.timer);
      io.request?.destroy();
      this.#inFlight--;
      record.outcome = outcome;
      this.loop.post(() => {
        report();
        options.complete?.();
      });
    };
    const failWith = (errMsg: string): void => finish(() => options.fail?.({ errMsg }), errMsg);
    this.#live.add(failWith);

    const task: FakeRequestTask = {
      abort: () => failWith('request:fail abort'),
      onHeadersReceived: () => {},
      offHeadersReceived: () => {},
    };

    let url: URL;
    try {
      url = new URL(String(options.url));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      failWith('request:fail invalid url');
      return task;
    }
    if (typeof method !== 'string' || !METHODS.has(method)) {
      failWith(`request:fail invalid method ${String(method)}`);
      return task;
    }
    if (!this.#online) {
      failWith('request:fail network is down');
      return task;
    }
    if (!Object.keys(header).some((k) => k.toLowerCase() === 'content-type'))
      header['content-type'] = 'application/json';
    const body = bodyOf(method, options.data, header, url);

    io.timer = setTimeout(
      () => failWith('request:fail timeout'),
      options.timeout ?? DEFAULT_TIMEOUT_MS,
    );
    const clientRequest = http.request(url, { method, headers: header }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => failWith('request:fail connection reset'));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const data = this.#decode(bytes, options.dataType, options.responseType);
        const responseHeader: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeader[key] = String(value);
        }
        finish(
          () =>
            options.success?.({
              data,
              statusCode: res.statusCode ?? 0,
              header: responseHeader,
              cookies: [],
              errMsg: 'request:ok',
            }),
          'request:ok',
        );
      });
    });
    io.request = clientRequest;
    clientRequest.on('error', (error) => failWith(`request:fail ${error.message}`));
    clientRequest.end(body === '' ? undefined : body);
    return task;
  }

  #decode(bytes: Buffer, dataType: string | undefined, responseType: string | undefined): unknown {
    if (responseType === 'arraybuffer' || this.quirks.answersArrayBuffer) {
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    }
    const text = bytes.toString('utf8');
    if ((dataType ?? 'json') !== 'json' && !this.quirks.parsesJsonAlways) return text;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}
