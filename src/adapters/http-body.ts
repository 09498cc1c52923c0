/**
 * Reading JSON request bodies with a hard size limit. The limit is enforced while the
 * bytes arrive: a declared `Content-Length` over it is refused before anything is read,
 * and a body that grows past it stops being read at once, so a client cannot make the
 * server buffer more than `maxBytes`.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, HttpErrorCode } from './http-errors.js';

/** Default largest request body, in bytes (1 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** True when the request declares a JSON body (`application/json`, any parameters). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const mediaType = header.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    HttpErrorCode.PAYLOAD_TOO_LARGE,
    `Request body is larger than ${maxBytes} bytes.`,
    // The unread rest of the body is still on the socket: it cannot carry another request.
    { headers: { connection: 'close' } },
  );
}

/** Read the whole body, failing with 413 as soon as it exceeds `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // Stop pulling bytes off the socket; the 413 response closes the connection.
        req.pause();
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (cause: Error): void => {
      cleanup();
      reject(
        new HttpError(400, HttpErrorCode.BAD_REQUEST, 'The request body could not be read.', {
          cause,
        }),
      );
    };
    const onClose = (): void => {
      // `close` before `end`: the client went away mid-body.
      cleanup();
      reject(new HttpError(400, HttpErrorCode.BAD_REQUEST, 'The request body was cut short.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Read and parse a JSON body: 415 unless the content type is JSON, 413 past `maxBytes`,
 * 400 for a body that is not UTF-8 JSON. Resolves with the parsed (still untrusted) value.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new HttpError(
      415,
      HttpErrorCode.UNSUPPORTED_MEDIA_TYPE,
      'Request body must be JSON (content-type: application/json).',
    );
  }
  const bytes = await readBody(req, maxBytes);
  try {
    return JSON.parse(utf8.decode(bytes)) as unknown;
  } catch (cause) {
    throw new HttpError(400, HttpErrorCode.INVALID_JSON, 'Request body is not valid JSON.', {
      cause,
    });
  }
}
