/**
 * The HTTP long-polling transport (PROTOCOL.md §11). To the engine it is a transport like
 * WebSocket: `opened` right away, then text frames in and out. Underneath, the first frame
 * sent (always `hello`) opens the polling session, one held `GET` at a time brings server
 * frames, and one `POST` at a time carries the client's frames, coalesced.
 */
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/index.js';
import { DEV } from '../../env/index.js';
import type { HttpExchange, HttpRequest, HttpRequester, HttpResponse } from './http.js';
import type { Transport, TransportFactory, TransportHandlers } from './transport.js';

/** `ws(s)://host/path?query` → `http(s)://host/path/poll`. */
export function pollingBase(url: string): string {
  const http = url.replace(/^ws/i, 'http');
  const end = http.search(/[?#]/);
  const path = end === -1 ? http : http.slice(0, end);
  return `${path.replace(/\/$/, '')}/poll`;
}

const JSON_HEADERS = { 'content-type': 'text/plain;charset=UTF-8' } as const;

/** The close code standing for an HTTP failure of a polling request. */
function closeCodeOf(response: HttpResponse): number {
  switch (response.status) {
    case 400:
      return response.body.includes('"unsupported_version"')
        ? CloseCode.UNSUPPORTED_VERSION
        : CloseCode.PROTOCOL_ERROR;
    case 401:
      return CloseCode.AUTH_FAILED;
    case 413:
      return CloseCode.FRAME_TOO_LARGE;
    default:
      // 410 (the session is gone), 403, 5xx, a proxy's error page: reconnect and resume.
      return CloseCode.ABNORMAL;
  }
}

/** A {@link TransportFactory} that carries one session over HTTP long-polling. */
export function pollingTransport(request: HttpRequester): TransportFactory {
  return (url: string, handlers: TransportHandlers): Transport => {
    const base = pollingBase(url);
    const v = `v=${PROTOCOL_VERSION}`;
    let done = false;
    let sid: string | null = null;
    /** The gateway ended the session (a `close` frame arrived): no DELETE is owed. */
    let ended = false;
    let opening = false;
    let outbox: string[] = [];
    let posting: HttpExchange | null = null;
    let flushQueued = false;
    let getting: HttpExchange | null = null;

    const end = (code: number, reason: string): void => {
      if (done) return;
      close(code, reason);
      handlers.closed(code, reason);
    };

    const failed = (response: HttpResponse | undefined): void => {
      if (response === undefined) return end(CloseCode.ABNORMAL, 'polling request failed');
      const code = closeCodeOf(response);
      end(code, `HTTP ${response.status}`);
    };

    /** Hand server frames to the engine; false once the link is finished. */
    const deliver = (frames: unknown): boolean => {
      if (!Array.isArray(frames)) {
        handlers.malformed(
          DEV ? 'a polling answer that is not an array of frames' : 'polling frames',
        );
        return false;
      }
      for (const frame of frames) {
        if (done) return false;
        const f = frame as { type?: unknown; code?: unknown; reason?: unknown } | null;
        if (f !== null && typeof f === 'object' && f.type === 'close') ended = true;
        handlers.received(JSON.stringify(frame));
      }
      if (ended && !done) {
        // The engine acts on the close frame itself; this only covers one it ignored.
        end(CloseCode.ABNORMAL, 'polling session closed');
        return false;
      }
      return !done;
    };

    const parse = (response: HttpResponse): unknown => {
      try {
        return JSON.parse(response.body) as unknown;
      } catch {
        handlers.malformed(DEV ? 'a polling answer that is not JSON' : 'polling JSON');
        return undefined;
      }
    };

    /**
     * Start a request. `answered` gets its response, and a network failure ends the link,
     * unless the link ended first. One GET (or the opening POST) and one POST at a time:
     * each starts only once the one before it answered, so an answer is always for the
     * request in flight.
     */
    const exchange = (
      init: HttpRequest,
      answered: (response: HttpResponse) => void,
    ): HttpExchange => {
      const started = request(init);
      started.response.then(
        (response) => {
          if (!done) answered(response);
        },
        () => {
          if (!done) failed(undefined);
        },
      );
      return started;
    };

    /** The URL of the session's requests. */
    const sessionUrl = (id: string): string => `${base}?sid=${encodeURIComponent(id)}&${v}`;

    const poll = (): void => {
      if (done || sid === null) return;
      getting = exchange({ method: 'GET', url: sessionUrl(sid), headers: {} }, (response) => {
        getting = null;
        if (response.status !== 200) return failed(response);
        const frames = parse(response);
        if (frames !== undefined && deliver(frames)) poll();
      });
    };

    const flush = (): void => {
      flushQueued = false;
      if (done || sid === null || posting !== null || outbox.length === 0) return;
      const body = `[${outbox.join(',')}]`;
      outbox = [];
      posting = exchange(
        { method: 'POST', url: sessionUrl(sid), headers: JSON_HEADERS, body },
        (response) => {
          posting = null;
          if (response.status >= 300) return failed(response);
          flush();
        },
      );
    };

    const open = (hello: string): void => {
      opening = true;
      getting = exchange(
        { method: 'POST', url: `${base}/open?${v}`, headers: JSON_HEADERS, body: hello },
        (response) => {
          getting = null;
          if (response.status !== 200 && response.status !== 401) return failed(response);
          const body = parse(response) as { sid?: unknown; frames?: unknown } | undefined;
          if (body === undefined) return;
          if (typeof body !== 'object' || body === null) {
            return handlers.malformed(
              DEV ? 'a polling open answer that is not an object' : 'polling open',
            );
          }
          if (typeof body.sid === 'string') sid = body.sid;
          if (!deliver(body.frames ?? [])) return;
          if (sid === null) return failed(response);
          flush();
          poll();
        },
      );
    };

    const close = (_code: number, _reason: string): void => {
      if (done) return;
      done = true;
      getting?.abort();
      posting?.abort();
      getting = posting = null;
      outbox = [];
      if (sid !== null && !ended) {
        // Tell the gateway at once rather than leave the session to its idle timeout.
        request({ method: 'DELETE', url: sessionUrl(sid), headers: {} }).response.catch(() => {});
      }
    };

    // There is no handshake below the protocol's own: the link is usable at once.
    void Promise.resolve().then(() => {
      if (!done) handlers.opened();
    });

    return {
      kind: 'polling',
      send(text) {
        if (done) return;
        if (!opening) return open(text);
        outbox.push(text);
        if (!flushQueued) {
          flushQueued = true;
          // Frames sent in one turn of the event loop travel in one POST.
          void Promise.resolve().then(flush);
        }
      },
      close,
    };
  };
}
