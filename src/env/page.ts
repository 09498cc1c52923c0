/**
 * The page lifecycle a client reacts to, as a small injectable source. A browser page
 * provides it through {@link browserPage}; other hosts (Node, mini-programs) have none, or
 * pass their own.
 */

/**
 * - `visible`: the page became visible again (`visibilitychange`); timers may have been
 *   throttled while it was hidden.
 * - `pagehide`: the page is being unloaded or put into the back/forward cache;
 *   `persisted` is true for the latter.
 * - `pageshow`: the page is shown; `persisted` is true when it came back from the
 *   back/forward cache.
 */
export type PageEvent =
  | { readonly type: 'visible' }
  | { readonly type: 'pagehide'; readonly persisted: boolean }
  | { readonly type: 'pageshow'; readonly persisted: boolean };

/** A source of {@link PageEvent}s. */
export interface PageLifecycle {
  /** Start reporting to `listener`; returns a function that stops it. */
  subscribe(listener: (event: PageEvent) => void): () => void;
}

interface EventTargetLike {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

/** The part of `window` and `document` {@link browserPage} uses. */
export interface BrowserPageHost {
  readonly window: EventTargetLike;
  readonly document: EventTargetLike & { readonly visibilityState?: string };
}

/**
 * The page lifecycle of a browser `window` and its `document`. Without arguments, the
 * global ones; undefined where there are none (Node, workers, mini-programs).
 */
export function browserPage(
  host: BrowserPageHost | undefined = globalHost(),
): PageLifecycle | undefined {
  if (host === undefined) return undefined;
  const { window, document } = host;
  return {
    subscribe(listener) {
      const visibility = (): void => {
        if (document.visibilityState === 'visible') listener({ type: 'visible' });
      };
      const transition = (event: unknown): void => {
        const { type, persisted } = event as { type: 'pagehide' | 'pageshow'; persisted?: unknown };
        listener({ type, persisted: persisted === true });
      };
      document.addEventListener('visibilitychange', visibility);
      window.addEventListener('pagehide', transition);
      window.addEventListener('pageshow', transition);
      return () => {
        document.removeEventListener('visibilitychange', visibility);
        window.removeEventListener('pagehide', transition);
        window.removeEventListener('pageshow', transition);
      };
    },
  };
}

/** Whether `value` has `addEventListener` and `removeEventListener`. */
export function isEventTarget(value: unknown): value is EventTargetLike {
  const t = value as Partial<EventTargetLike> | null | undefined;
  return typeof t?.addEventListener === 'function' && typeof t.removeEventListener === 'function';
}

function globalHost(): BrowserPageHost | undefined {
  const { window, document } = globalThis as { window?: unknown; document?: unknown };
  return isEventTarget(window) && isEventTarget(document) ? { window, document } : undefined;
}
