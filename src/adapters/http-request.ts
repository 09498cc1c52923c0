/** Reading the request target (path and query) of a Node HTTP request. */

/** Path and query of a request, split without interpreting a host. */
export interface RequestTarget {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/**
 * Split `req.url` into path and query. Done by hand rather than with `new URL()`, which
 * would read `//host/x` as a host name and throws on some inputs.
 */
export function requestTarget(raw: string | undefined): RequestTarget {
  const text = raw ?? '/';
  const q = text.indexOf('?');
  return {
    pathname: q === -1 ? text : text.slice(0, q),
    searchParams: new URLSearchParams(q === -1 ? '' : text.slice(q + 1)),
  };
}
