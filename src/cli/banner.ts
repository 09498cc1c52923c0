/**
 * The human-readable banner `lifeline serve --dev` prints on stderr, next to the JSON
 * logs on stdout: where to open the demo and the generated API key, ready to copy.
 */
import type { ServeConfig } from './config.js';
import type { RunningServer } from './serve.js';

/** The banner's text. */
export function devBanner(config: ServeConfig, running: RunningServer): string {
  const publish = `curl -H 'authorization: Bearer ${config.apiKey ?? '<api key>'}' -H 'content-type: application/json' -d '{"to":{"user":"alice"},"data":"hello"}' ${running.url}/api/publish`;
  const lines = [
    '',
    '  Lifeline dev server (not for production: /dev/token signs a token for anyone)',
    '',
    `  Demo page   ${running.url}/`,
    `  WebSocket   ${running.wsUrl}`,
    `  API key     ${config.apiKey ?? '(API disabled)'}${config.apiKeyGenerated ? '   (generated)' : ''}`,
    `  Publish     ${publish}`,
    '',
  ];
  return lines.join('\n') + '\n';
}
