/**
 * The demo page in a real browser (Debian's Chromium through playwright-core), against the
 * built CLI: connect as a user, see a message published over the HTTP API, and come back
 * to `open` on its own after the gateway restarts on the same port.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { assertBuilt, startCli } from '../helpers/cli.js';

// Fixed across the restart, so the test can keep publishing; the JWT secret is not:
// the page must fetch a fresh token from the new process by itself.
const API_KEY = 'browser-test-api-key';

// The page loads the browser bundle; without it the test would only time out.
const BUNDLE = fileURLToPath(new URL('../../dist/browser/lifeline.js', import.meta.url));

async function publish(url: string, to: object, data: unknown): Promise<void> {
  const res = await fetch(`${url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, data }),
  });
  assert.equal(res.status, 200, await res.text());
}

describe('demo page', () => {
  it('has the browser bundle built', () => assertBuilt(BUNDLE));

  it('connects, shows pushed messages, and reconnects by itself after a gateway restart', async () => {
    await using browser = await launchBrowser();
    const { page } = browser;
    const env = { LIFELINE_API_KEY: API_KEY };
    let cli = await startCli(['serve', '--dev', '--port', '0'], { env });
    try {
      await browser.screenshotOnFailure('demo-reconnect', async () => {
        const state = page.locator('#state');
        const messages = page.locator('#messages li');

        await page.goto(`${cli.url}/`);
        await page.fill('#user', 'alice');
        await page.click('#connect');
        await state.and(page.locator('[data-kind="open"]')).waitFor();
        assert.match((await page.textContent('#state-detail')) ?? '', /alice over websocket/);

        await publish(cli.url, { user: 'alice' }, { text: 'first <b>message</b>' });
        await messages.filter({ hasText: 'first <b>message</b>' }).waitFor();
        // Shown as text, never parsed as HTML.
        assert.equal(await page.locator('#messages b').count(), 0);
        assert.match((await messages.first().textContent()) ?? '', /user:alice.*offset 1/s);

        // Restart the gateway on the same port. The page sees 4007, waits, fetches a new
        // token from the new process and opens a new session without any click.
        const { port } = cli;
        assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
        await state.and(page.locator(':not([data-kind="open"])')).waitFor();
        cli = await startCli(['serve', '--dev', '--port', String(port)], { env });
        await state.and(page.locator('[data-kind="open"]')).waitFor({ timeout: 20_000 });

        await publish(cli.url, { user: 'alice' }, 'after the restart');
        await messages.filter({ hasText: 'after the restart' }).waitFor();
        // Failed requests while the server was down are logged; exceptions must not be.
        assert.deepEqual(browser.pageErrors, []);
      });
    } finally {
      await cli[Symbol.asyncDispose]();
    }
  });

  it('subscribes to a channel and publishes from its own form', async () => {
    await using browser = await launchBrowser();
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    const { page } = browser;
    await browser.screenshotOnFailure('demo-channel', async () => {
      await page.goto(`${cli.url}/`);
      await page.fill('#user', 'bob');
      await page.click('#connect');
      await page.locator('#state[data-kind="open"]').waitFor();

      await page.fill('#channel', 'news');
      await page.click('#subscribe');
      await page.locator('#channels li', { hasText: 'news' }).waitFor();

      await page.selectOption('#target-kind', 'channel');
      await page.fill('#target-name', 'news');
      await page.fill('#payload', '{ "headline": "extra" }');
      // The subscription is confirmed asynchronously; publish until the push shows up.
      await waitForPush(page, async () => {
        await page.click('#publish');
        await page.locator('#publish-result', { hasText: 'delivered to' }).waitFor();
      });
      assert.match(
        (await page.locator('#messages li').first().textContent()) ?? '',
        /channel:news/,
      );

      await page.click('#close');
      await page.locator('#state[data-kind="closed"]').waitFor();
      await page.click('#reconnect');
      await page.locator('#state[data-kind="open"]').waitFor();
      assert.deepEqual(browser.pageErrors, []);
      assert.deepEqual(browser.consoleErrors, []);
    });
  });
});

/** Run `publish` until a `channel:news` message is on the page (bounded by Playwright's timeouts). */
async function waitForPush(page: Page, publish: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await publish();
    const shown = page.locator('#messages li[data-stream="channel:news"]');
    try {
      await shown.first().waitFor({ timeout: 1_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
