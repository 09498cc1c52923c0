/**
 * `lifeline serve` settings: flags and environment resolved into one checked
 * {@link ServeConfig}. Problems are {@link UsageError}s, which the command turns into a
 * message and exit code 2.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

/** Default TCP port of `lifeline serve`. */
export const DEFAULT_PORT = 8080;
/** Default interface: loopback only, so a dev server is not reachable from the network. */
export const DEFAULT_HOST = '127.0.0.1';
/** Default WebSocket path. */
export const DEFAULT_PATH = '/ws';
/** Default log level. */
export const DEFAULT_LOG_LEVEL = 'info';
/** Levels `--log-level` accepts (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Stores `--store` accepts. */
export const STORE_KINDS = ['sqlite', 'memory'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];
/** Default of `--store`: messages and acks survive a restart. */
export const DEFAULT_STORE: StoreKind = 'sqlite';
/** Default of `--data`, relative to the working directory. */
export const DEFAULT_DATA_DIR = './lifeline-data';
/** The database file inside the `--data` directory. */
export const DATABASE_FILE = 'lifeline.db';

/** Environment variable read when `--api-key` is not given. */
export const API_KEY_ENV = 'LIFELINE_API_KEY';
/** Environment variable read when `--jwt-secret` is not given. */
export const JWT_SECRET_ENV = 'LIFELINE_JWT_SECRET';

/** A mistake in how the command was called; reported with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The flags of `lifeline serve`, as commander hands them over (env already applied). */
export interface ServeFlags {
  /** `--port`: TCP port, 0 for any free one. @default DEFAULT_PORT (8080) */
  readonly port: number;
  /** `--host`: interface to bind. @default DEFAULT_HOST ('127.0.0.1') */
  readonly host: string;
  /** `--path`: WebSocket path. @default DEFAULT_PATH ('/ws') */
  readonly path: string;
  /** `--api-key` or `LIFELINE_API_KEY`. @default none: `/api/*` disabled (generated with `--dev`) */
  readonly apiKey?: string | undefined;
  /** `--jwt-secret` or `LIFELINE_JWT_SECRET`. @default none (generated with `--dev`) */
  readonly jwtSecret?: string | undefined;
  /** `--jwks-url`. @default none */
  readonly jwksUrl?: string | undefined;
  /** `--dev`: generated keys, `/dev/token`, `/dev/config`, stderr banner. @default false */
  readonly dev: boolean;
  /** `--log-level`. @default DEFAULT_LOG_LEVEL ('info') */
  readonly logLevel: LogLevel;
  /** `--store`: where messages and acks are kept. @default DEFAULT_STORE ('sqlite') */
  readonly store?: string | undefined;
  /** `--data`: directory of the SQLite store, created if missing. @default DEFAULT_DATA_DIR ('./lifeline-data') */
  readonly data?: string | undefined;
}

/** Where `serve` keeps messages and acks. */
export type StoreConfig =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'sqlite';
      /** Absolute path of the `--data` directory. */
      readonly dataDir: string;
      /** Absolute path of the database file in it. */
      readonly path: string;
    };

/** Everything `serve` needs, checked and with dev defaults filled in. */
export interface ServeConfig {
  /** TCP port; 0 picks any free port. */
  readonly port: number;
  readonly host: string;
  /** WebSocket path, starting with `/`. */
  readonly path: string;
  /** Key for `/api/*`; `undefined` disables those routes. */
  readonly apiKey: string | undefined;
  /** True when `apiKey` was generated because `--dev` had none. */
  readonly apiKeyGenerated: boolean;
  /** HS256 secret verifying client tokens (and signing dev tokens). */
  readonly jwtSecret: string | undefined;
  readonly jwtSecretGenerated: boolean;
  /** JWKS endpoint verifying client tokens. */
  readonly jwksUrl: string | undefined;
  readonly dev: boolean;
  readonly logLevel: LogLevel;
  readonly store: StoreConfig;
}

/** Parse a `--port` value: an integer in 0–65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(port) || port > 65535) {
    throw new UsageError(`must be an integer from 0 to 65535`);
  }
  return port;
}

/** A random secret of `bytes` bytes, base64url-encoded. */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function storeConfig(flags: ServeFlags): StoreConfig {
  const kind = flags.store ?? DEFAULT_STORE;
  if (!(STORE_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`--store must be one of ${STORE_KINDS.join(', ')}, got "${kind}"`);
  }
  if (kind === 'memory') {
    if (flags.data !== undefined) throw new UsageError('--data applies to --store sqlite only');
    return { kind };
  }
  const data = flags.data ?? DEFAULT_DATA_DIR;
  if (data.trim() === '') throw new UsageError('--data must name a directory');
  // Absolute, so the log line says exactly which file holds the messages.
  const dataDir = resolve(data);
  return { kind: 'sqlite', dataDir, path: join(dataDir, DATABASE_FILE) };
}

/** Check the flags and fill in what `--dev` generates. Throws {@link UsageError}. */
export function resolveServeConfig(flags: ServeFlags): ServeConfig {
  if (!flags.path.startsWith('/') || /[\s?#]/.test(flags.path)) {
    throw new UsageError(`--path must be an absolute URL path such as /ws, got "${flags.path}"`);
  }
  const jwksUrl = nonEmpty(flags.jwksUrl);
  if (jwksUrl !== undefined) {
    let protocol: string;
    try {
      protocol = new URL(jwksUrl).protocol;
    } catch {
      throw new UsageError(`--jwks-url must be an absolute URL, got "${jwksUrl}"`);
    }
    if (protocol !== 'https:' && protocol !== 'http:') {
      throw new UsageError(`--jwks-url must be an http(s) URL, got "${jwksUrl}"`);
    }
  }
  let jwtSecret = nonEmpty(flags.jwtSecret);
  let apiKey = nonEmpty(flags.apiKey);
  if (jwtSecret !== undefined && jwksUrl !== undefined) {
    throw new UsageError('pass only one of --jwt-secret and --jwks-url');
  }
  // With --jwks-url, tokens come from the real issuer: nothing to generate.
  const jwtSecretGenerated = flags.dev && jwtSecret === undefined && jwksUrl === undefined;
  const apiKeyGenerated = flags.dev && apiKey === undefined;
  const store = storeConfig(flags);
  if (jwtSecretGenerated) jwtSecret = generateSecret();
  if (apiKeyGenerated) apiKey = generateSecret(24);
  if (jwtSecret === undefined && jwksUrl === undefined) {
    throw new UsageError(
      `clients cannot be authenticated: pass --jwt-secret <secret> (or set ${JWT_SECRET_ENV}) ` +
        'or --jwks-url <url>; or use --dev for a local server with generated keys',
    );
  }
  return {
    port: flags.port,
    host: flags.host,
    path: flags.path,
    apiKey,
    apiKeyGenerated,
    jwtSecret,
    jwtSecretGenerated,
    jwksUrl,
    dev: flags.dev,
    logLevel: flags.logLevel,
    store,
  };
}
