/**
 * What the client does about the page lifecycle (PageLifecycle in src/env/page.ts), as a
 * pure decision the engine acts on:
 * - `visible`: timers of a hidden page are throttled, so check now what they would have:
 *   an open session is probed (`check`), an overdue reconnect starts at once;
 * - `pagehide`: close cleanly and wait (`suspend`): an open WebSocket keeps a page out of
 *   the back/forward cache, and a page that is going away should say so with 1000;
 * - `pageshow` from the back/forward cache: resume what `pagehide` suspended.
 */
import type { PageEvent } from '../env/index.js';
import { isTerminal, type ConnectionState } from './state.js';

/** `check` the open session, `suspend`, or the number of the attempt to start now. */
export type PageAction = 'check' | 'suspend' | number | undefined;

export function pageAction(event: PageEvent, state: ConnectionState, now: number): PageAction {
  switch (event.type) {
    case 'visible':
      if (state.kind === 'open') return 'check';
      return state.kind === 'reconnecting' && state.retryAt <= now ? state.attempt : undefined;
    case 'pagehide':
      return state.kind === 'suspended' || isTerminal(state) ? undefined : 'suspend';
    case 'pageshow':
      return event.persisted && state.kind === 'suspended' ? 0 : undefined;
  }
}
