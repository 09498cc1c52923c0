#!/usr/bin/env node
/**
 * `lifeline`: the command-line entry. Parses arguments with commander and dispatches;
 * the work is done in `serve.ts`. Usage errors exit with code 2, runtime failures with 1.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { devBanner } from './banner.js';
import {
  API_KEY_ENV,
  DEFAULT_DATA_DIR,
  DEFAULT_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PATH,
  DEFAULT_PORT,
  DEFAULT_STORE,
  JWT_SECRET_ENV,
  LOG_LEVELS,
  STORE_KINDS,
  UsageError,
  parsePort,
  resolveServeConfig,
  type ServeConfig,
  type ServeFlags,
} from './config.js';
import { createCliLogger } from './logger.js';
import { startServer } from './serve.js';
import { exitOnSignals } from './shutdown.js';

/** Exit code of a wrong invocation (bad flag, missing credentials configuration). */
const EXIT_USAGE = 2;

function packageVersion(): string {
  // Two levels up from both src/cli/ and dist/cli/.
  const pkg: unknown = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  );
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

function portOption(text: string): number {
  try {
    return parsePort(text);
  } catch (error) {
    // commander prefixes the option name and exits through main(), with code 2.
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

async function serve(flags: ServeFlags, command: Command): Promise<void> {
  let config: ServeConfig;
  try {
    config = resolveServeConfig(flags);
  } catch (error) {
    if (error instanceof UsageError)
      command.error(`error: ${error.message}`, { exitCode: EXIT_USAGE });
    throw error;
  }
  const logger = createCliLogger(config.logLevel);
  if (config.apiKey === undefined) {
    logger.warn(
      {},
      `no API key: /api/* is disabled; pass --api-key or set ${API_KEY_ENV} to publish over HTTP`,
    );
  }
  if (config.dev && config.jwtSecret === undefined) {
    logger.warn({}, '--dev with --jwks-url: /dev/token is disabled (it signs with a secret)');
  }
  if (config.dev && !['127.0.0.1', '::1', 'localhost'].includes(config.host)) {
    logger.warn({ host: config.host }, '--dev on a non-loopback interface: anyone can get tokens');
  }

  let running;
  try {
    running = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error, port: config.port, host: config.host }, 'could not start');
    process.exit(1);
  }
  exitOnSignals(() => running.close(), logger);

  logger.info(
    {
      url: running.url,
      wsUrl: running.wsUrl,
      port: running.port,
      path: config.path,
      dev: config.dev,
      store: running.store,
      // Only a key this process made up is logged; a configured one stays out of logs.
      ...(config.apiKeyGenerated ? { apiKey: config.apiKey } : {}),
    },
    'listening',
  );
  if (config.dev) process.stderr.write(devBanner(config, running));
}

function buildProgram(): Command {
  const program = new Command('lifeline')
    .description('Lifeline: real-time push over WebSocket, with an HTTP API for backends.')
    .version(packageVersion())
    // Throw instead of exiting, so usage errors can be mapped to exit code 2 in main().
    .exitOverride();

  program
    .command('serve')
    .description('run a gateway with its HTTP API, the demo page and the browser client')
    .addOption(
      new Option('-p, --port <port>', 'TCP port; 0 picks any free port')
        .default(DEFAULT_PORT)
        .argParser(portOption),
    )
    .option('--host <host>', 'interface to listen on', DEFAULT_HOST)
    .option('--path <path>', 'WebSocket path', DEFAULT_PATH)
    .addOption(
      new Option('--api-key <key>', 'key for /api/* (Authorization: Bearer <key>)').env(
        API_KEY_ENV,
      ),
    )
    .addOption(
      new Option('--jwt-secret <secret>', 'HS256 secret that signs client tokens').env(
        JWT_SECRET_ENV,
      ),
    )
    .option('--jwks-url <url>', 'JWKS URL with the public keys that sign client tokens')
    .option('--dev', 'development: generate missing keys, enable /dev/token and /dev/config', false)
    .addOption(
      new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default(DEFAULT_LOG_LEVEL),
    )
    .addOption(
      new Option('--store <kind>', 'where messages and acks are kept')
        .choices(STORE_KINDS)
        .default(DEFAULT_STORE),
    )
    .option(
      '--data <dir>',
      `directory of the sqlite store, created if missing (default: "${DEFAULT_DATA_DIR}")`,
    )
    .addHelpText(
      'after',
      `
Client tokens are JWTs (sub = user id). Without --dev, one of --jwt-secret and --jwks-url
is required; prefer the ${JWT_SECRET_ENV} and ${API_KEY_ENV} environment variables, which
do not show up in the process list. Without an API key the /api/* routes answer 503.

Examples:
  lifeline serve --dev
  ${JWT_SECRET_ENV}=... ${API_KEY_ENV}=... lifeline serve --host 0.0.0.0 --port 8080`,
    )
    .action((flags: ServeFlags, command: Command) => serve(flags, command));

  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with 0; every other commander error is a usage error.
      process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    throw error;
  }
}

main(process.argv).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
