/** The seam every peer server implements; `host.ts` drives it for the orchestrator. */
import type { Server } from 'node:http';
import type { BenchData, PeerName } from '../protocol.js';

export interface PeerOptions {
  /** Lifeline only: `memory`, or `sqlite:<file>`. */
  readonly store: string;
  /** Lifeline only: `hook` (token = user id) or `jwt` (HS256 with `secret`). */
  readonly auth: 'hook' | 'jwt';
  readonly secret: string;
}

export interface PeerServer {
  readonly peer: PeerName;
  /** The store actually used, for the report ("n/a" for peers without one). */
  readonly store: string;
  readonly auth: string;
  /** Authenticated connections, or subscribers of `channel`. */
  count(channel?: string): number;
  /** Server-side publish to every subscriber of `channel`. */
  broadcast(channel: string, data: BenchData): Promise<unknown> | void;
  /** Server-side publish to one user. */
  push(user: string, data: BenchData): Promise<unknown> | void;
  close(): Promise<void>;
}

export type PeerFactory = (server: Server, options: PeerOptions) => Promise<PeerServer>;
