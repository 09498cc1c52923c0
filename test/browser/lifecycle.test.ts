/**
 * The page lifecycle in a real browser (Debian's Chromium through playwright-core), with the
 * browser bundle and its default environment (the page's own window and document) against
 * the built CLI: pagehide closes the socket with 1000 and the gateway lets the session go;
 * a message published meanwhile arrives once after pageshow from the back/forward cache.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../helpers/browser.js';
import { assertBuilt, startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const API_KEY = 'lifecycle-test-api-key';
const BUNDLE = fileURLToPath(new URL('../../dist/browser/lifeline.js', import.meta.url));

async function publish(url: string, data: unknown): Promise<void> {
  const res = await fetch(`${url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: { user: 'carol' }, data }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function sessions(url: string): Promise<number> {
  const res = await fetch(`${url}/healthz`);
  return ((await res.json()) as { sessions: number }).sessions;
}

/** What the page records; read back with `page.evaluate`. */
interface Recorded {
  readonly kinds: string[];
  readonly closes: (number | undefined)[];
  readonly messages: { offset: number; data: unknown }[];
}

describe('page lifecycle in Chromium', () => {
  it('has the browser bundle built', () => assertBuilt(BUNDLE));

  it('pagehide closes with 1000; pageshow from the back/forward cache resumes without loss', async () => {
    await using browser = await launchBrowser();
    await using cli = await startCli(['serve', '--dev', '--port', '0'], {
      env: { LIFELINE_API_KEY: API_KEY },
    });
    const { page } = browser;
    await browser.screenshotOnFailure('lifecycle-bfcache', async () => {
      await page.goto(`${cli.url}/`);
      // Plain JavaScript, run as the page's own code: the client with its default page
      // lifecycle source, and the page's WebSocket recording the close codes it is given.
      await page.evaluate(`(async () => {
        const { createClient } = await import('/lifeline.js');
        const recorded = { kinds: [], closes: [], messages: [] };
        class RecordingSocket extends WebSocket {
          close(code, reason) {
            recorded.closes.push(code);
            super.close(code, reason);
          }
        }
        const token = () =>
          fetch('/dev/token', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: 'carol' }),
          }).then((res) => res.json()).then((body) => body.token);
        const client = createClient({ url: ${JSON.stringify(cli.wsUrl)}, token, WebSocket: RecordingSocket });
        client.on('state', ({ to }) => recorded.kinds.push(to.kind));
        client.on('message', (m) => recorded.messages.push({ offset: m.offset, data: m.data }));
        Object.assign(window, { recorded, client });
        await client.connect();
      })()`);
      const recorded = (): Promise<Recorded> => page.evaluate<Recorded>('window.recorded');

      await publish(cli.url, 'before');
      await waitFor(async () => assert.equal((await recorded()).messages.length, 1));
      assert.equal(await sessions(cli.url), 1);

      // What the browser fires when the page goes into the back/forward cache.
      await page.evaluate(
        "dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))",
      );
      const hidden = await recorded();
      assert.equal(hidden.kinds.at(-1), 'suspended');
      assert.deepEqual(hidden.closes, [1000]);
      await waitFor(async () => assert.equal(await sessions(cli.url), 0));

      await publish(cli.url, 'while hidden');
      await page.evaluate(
        "dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))",
      );
      await waitFor(async () => assert.equal((await recorded()).messages.length, 2));
      const shown = await recorded();
      assert.deepEqual(shown.messages, [
        { offset: 1, data: 'before' },
        { offset: 2, data: 'while hidden' },
      ]);
      assert.deepEqual(shown.kinds, ['connecting', 'open', 'suspended', 'connecting', 'open']);
      await page.evaluate('window.client.close()');
      assert.deepEqual(browser.pageErrors, []);
    });
  });
});
