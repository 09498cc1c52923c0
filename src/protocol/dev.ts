/**
 * Development or production build. The browser bundle is built with `LIFELINE_DEV` defined
 * as `false`: every `DEV ? long : short` then folds to its short branch, and whatever only
 * a developer needs (long error messages, self-checks of outgoing frames) is left out.
 * Everywhere else (Node, tests, bundlers that do not define it) `DEV` is `true`.
 *
 * Only messages and redundant checks depend on it: error classes, `code`s, close codes and
 * every decision are the same in both builds. It lives in the lowest layer so that every
 * layer can read it; `src/env` re-exports it.
 */
declare const LIFELINE_DEV: boolean | undefined;

export const DEV: boolean = typeof LIFELINE_DEV === 'undefined' || LIFELINE_DEV;
