/**
 * A test page for tabs sharing one connection, under the origin of a running
 * `lifeline serve --dev` (which serves only its demo page): the tab opens
 * `/share-test/` from the gateway itself — a loopback page, so that Chromium's local
 * network checks let it open WebSockets to the gateway, which a page fulfilled by request
 * interception may not — and then gets its content. The page loads the `lifeline/shared`
 * browser bundle (intercepted), connects as the given user with `shareConnection: true`,
 * and keeps what it receives in `window.shareTest` (and on the page, as text).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

/** The bundle the page loads; `npm run build` makes it. */
export const SHARED_BUNDLE = fileURLToPath(
  new URL('../../dist/browser/lifeline-shared.js', import.meta.url),
);

/** Path of the page under the gateway's origin. */
export const SHARE_PAGE_PATH = '/share-test/';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>shared connection</title>
<p>state: <span id="state">idle</span></p>
<ol id="messages"></ol>
<script type="module">
  import { createClient } from './lifeline-shared.js';
  const user = USER;
  const config = await (await fetch('/dev/config')).json();
  async function token() {
    const res = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    return (await res.json()).token;
  }
  const client = createClient({
    url: 'ws://' + location.host + config.path,
    token,
    shareConnection: true,
    shareConfirmTimeoutMs: CONFIRM_TIMEOUT_MS,
    storage: localStorage,
    maxReconnectDelayMs: 1000,
  });
  const received = [];
  window.shareTest = { client, received };
  client.on('state', ({ to }) => {
    document.getElementById('state').textContent = to.kind;
  });
  client.on('message', (m) => {
    received.push({ stream: m.stream, offset: m.offset, data: m.data });
    const li = document.createElement('li');
    li.textContent = m.stream + ' ' + m.offset + ' ' + JSON.stringify(m.data);
    document.getElementById('messages').append(li);
  });
  client.connect().catch((error) => {
    document.getElementById('state').textContent = 'error ' + error.code;
  });
</script>
`;

/** Serve the bundle under `origin` to every tab of `context`. */
export async function routeSharePage(context: BrowserContext, origin: string): Promise<void> {
  const bundle = await readFile(SHARED_BUNDLE);
  await context.route(`${origin}${SHARE_PAGE_PATH}lifeline-shared.js`, (route) =>
    route.fulfill({ contentType: 'text/javascript', body: bundle }),
  );
}

/** A tab of the page that counts the WebSocket connections it opens. */
export interface ShareTab {
  readonly page: Page;
  /** WebSocket connections this tab opened so far. */
  sockets(): number;
  /** Offsets of the user's inbox messages this tab received, in order. */
  offsets(): Promise<number[]>;
}

export async function openShareTab(
  context: BrowserContext,
  origin: string,
  user: string,
  page?: Page,
  /** `shareConfirmTimeoutMs`: also how often a leader looks for tabs that died. */
  confirmTimeoutMs = 10_000,
): Promise<ShareTab> {
  const tab = page ?? (await context.newPage());
  let sockets = 0;
  tab.on('websocket', () => sockets++);
  // The gateway answers 404 here; what matters is that the document comes from it.
  await tab.goto(`${origin}${SHARE_PAGE_PATH}`);
  await tab.setContent(
    PAGE.replace('USER', JSON.stringify(user)).replace(
      'CONFIRM_TIMEOUT_MS',
      String(confirmTimeoutMs),
    ),
  );
  await tab.locator('#state', { hasText: /^open$/ }).waitFor();
  return {
    page: tab,
    sockets: () => sockets,
    offsets: () =>
      tab.evaluate(() =>
        (
          globalThis as unknown as { shareTest: { received: { stream: string; offset: number }[] } }
        ).shareTest.received
          .filter((m) => m.stream.startsWith('user:'))
          .map((m) => m.offset),
      ),
  };
}
