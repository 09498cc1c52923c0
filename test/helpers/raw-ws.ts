/**
 * A raw WebSocket test client built directly on `ws`: it speaks no Lifeline, so tests can
 * send exactly the bytes they want (malformed, binary, oversized) and see exactly the
 * frames and close codes the gateway produces.
 */
import WebSocket from 'ws';

export interface RawClose {
  readonly code: number;
  readonly reason: string;
}

/** The upgrade was answered with an HTTP status instead of 101. */
export class UpgradeRefused extends Error {
  override readonly name = 'UpgradeRefused';
  constructor(readonly status: number) {
    super(`upgrade refused with HTTP ${status}`);
  }
}

export interface RawClientOptions {
  /** Offered subprotocols. @default ['lifeline.v1'] */
  readonly protocols?: readonly string[];
  readonly origin?: string;
  /** Largest frame the client accepts. @default 100 MiB (ws' own default) */
  readonly maxPayload?: number;
}

export interface RawClient extends AsyncDisposable {
  readonly socket: WebSocket;
  /** Every text frame received, in order, exactly as it arrived. */
  readonly received: readonly string[];
  /** Send a JSON value as one text frame. */
  send(frame: unknown): void;
  sendText(text: string): void;
  sendBinary(bytes: Uint8Array): void;
  /** The next received frame not returned yet, parsed. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The next received frame of a type, skipping (and consuming) others. */
  nextOf(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves when the connection closed. */
  closed(timeoutMs?: number): Promise<RawClose>;
  close(code?: number): void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function connectRaw(url: string, options: RawClientOptions = {}): Promise<RawClient> {
  const socket = new WebSocket(url, [...(options.protocols ?? ['lifeline.v1'])], {
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
  });
  const received: string[] = [];
  let cursor = 0;
  let wake: (() => void) | undefined;
  let closeInfo: RawClose | undefined;
  const closed = new Promise<RawClose>((resolve) => {
    socket.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      wake?.();
      resolve(closeInfo);
    });
  });
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    received.push(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    wake?.();
  });
  socket.on('error', () => {}); // surfaced through `closed()` and the open promise

  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => {
      reject(new UpgradeRefused(res.statusCode ?? 0));
      res.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });

  async function nextText(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (cursor >= received.length) {
      if (closeInfo !== undefined) {
        throw new Error(`connection closed (${closeInfo.code}) while waiting for a frame`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await withTimeout(new Promise<void>((r) => (wake = r)), left, 'a frame').catch(() => {});
      wake = undefined;
    }
    return received[cursor++] as string;
  }

  const client: RawClient = {
    socket,
    received,
    send: (frame) => socket.send(JSON.stringify(frame)),
    sendText: (text) => socket.send(text),
    sendBinary: (bytes) => socket.send(bytes, { binary: true }),
    async next(timeoutMs = 2_000) {
      return JSON.parse(await nextText(timeoutMs)) as Record<string, unknown>;
    },
    async nextOf(type, timeoutMs = 2_000) {
      for (;;) {
        const frame = await client.next(timeoutMs);
        if (frame['type'] === type) return frame;
      }
    },
    closed: (timeoutMs = 5_000) => withTimeout(closed, timeoutMs, 'the connection to close'),
    close: (code = 1000) => socket.close(code),
    async [Symbol.asyncDispose]() {
      if (closeInfo !== undefined) return;
      socket.terminate();
      await closed;
    },
  };
  return client;
}
