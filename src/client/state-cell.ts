/**
 * The cell that owns the current connection state together with the resources that live
 * exactly as long as it does. Apart from the state's types (`state.ts`), which are public:
 * its members are internal, and the browser bundles shorten their names.
 */
import type { Scope } from '../env/index.js';
import type { ConnectionState, StateChange } from './state.js';

/**
 * Holds the current state and a scope for the resources of that state (a reconnect
 * timer, a heartbeat, a network listener). Leaving a state disposes its scope first.
 */
export class StateCell {
  private state_: ConnectionState = { kind: 'idle' };
  private scope_: Scope;
  private readonly parent_: Scope;
  private readonly changed_: (change: StateChange) => void;

  constructor(parent: Scope, changed: (change: StateChange) => void) {
    this.parent_ = parent;
    this.scope_ = parent.child();
    this.changed_ = changed;
  }

  get current(): ConnectionState {
    return this.state_;
  }

  /** Resources owned by the current state. */
  get scope(): Scope {
    return this.scope_;
  }

  /**
   * Dispose the current state's resources, enter `to`, announce it. Returns whether `to`
   * is still the current state afterwards: a listener may already have moved on.
   */
  transition(to: ConnectionState): boolean {
    const from = this.state_;
    this.scope_.dispose();
    this.scope_ = this.parent_.child();
    this.state_ = to;
    this.changed_({ from, to });
    return this.state_ === to;
  }
}
