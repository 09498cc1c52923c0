/**
 * The duplicate-session policy (PROTOCOL.md §3): which sessions of a user a newly
 * authenticated session displaces, or whether it is refused. Decided in one synchronous
 * step with registering the newcomer, so two sessions finishing authentication at the
 * same time cannot both slip under a limit.
 */
import { CloseCode } from '../protocol/index.js';
import type { SessionPolicyOptions } from './options.js';

/** What the policy needs to know about an open session. */
export interface PolicySession {
  readonly device: string | undefined;
}

/** The policy's verdict for a newcomer. */
export type Admission<S> =
  | { readonly admit: true; readonly replace: readonly S[] }
  | { readonly admit: false; readonly code: CloseCode };

/**
 * Decide about a newcomer with `device`, given the user's open sessions oldest first.
 * Nothing is closed here: the caller closes `replace` with 4102 (replaced) or the
 * newcomer with `code`.
 */
export function admit<S extends PolicySession>(
  policy: Required<SessionPolicyOptions>,
  device: string | undefined,
  existing: readonly S[],
): Admission<S> {
  const replace: S[] = [];
  // Sessions without a device are never matched by the device rule: two anonymous tabs
  // are not "the same device".
  if (device !== undefined && policy.perDevice !== 'allow') {
    const same = existing.filter((s) => s.device === device);
    if (same.length > 0 && policy.perDevice === 'reject-new') {
      return { admit: false, code: CloseCode.SESSION_LIMIT };
    }
    replace.push(...same);
  }
  const remaining = existing.filter((s) => !replace.includes(s));
  const excess = remaining.length + 1 - policy.maxSessionsPerUser;
  if (excess > 0) {
    if (policy.overflow === 'reject-new') return { admit: false, code: CloseCode.SESSION_LIMIT };
    replace.push(...remaining.slice(0, excess));
  }
  return { admit: true, replace };
}
