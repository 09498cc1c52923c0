/**
 * The demo page in a real browser (Debian's Chromium through playwright-core), against the
 * built CLI:
 *
 * - it connects, shows pushed messages with their positions and acknowledgements, and
 *   comes back by itself after a graceful restart on the same port;
 * - it subscribes to a channel and publishes from its own form; it fits a phone screen;
 * - a gateway process killed and started again on the same SQLite file: the page shows
 *   what was published while it was away, and every message exactly once, in order;
 * - WebSocket blocked by a proxy that refuses upgrades: the page falls back to HTTP
 *   long-polling, says so, and receives messages.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { assertBuilt, startCli, type RunningCli } from '../helpers/cli.js';
import { freePort } from '../helpers/gateway-process.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startWsRefusingProxy } from '../helpers/ws-refusing-proxy.js';

// Fixed across restarts, so the test can keep publishing; the JWT secret is not: the
// page must fetch a fresh token from the new process by itself.
const API_KEY = 'browser-test-api-key';

// The page loads the browser bundle; without it the test would only time out.
const BUNDLE = fileURLToPath(new URL('../../dist/browser/lifeline.js', import.meta.url));

/** Longest wait for the page to reconnect (its reconnect delay is capped at 5 s). */
const RECONNECT_TIMEOUT_MS = 20_000;
/**
 * Longest wait for the fallback to polling: three failed WebSocket attempts with the
 * client's default backoff (at most 1 + 2 + 4 s of delay), then a polling session.
 */
const FALLBACK_TIMEOUT_MS = 30_000;

async function publish(url: string, to: object, data: unknown): Promise<{ id: string }> {
  const res = await fetch(`${url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to, data }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as { id: string };
}

async function presence(url: string, user: string): Promise<unknown[]> {
  const res = await fetch(`${url}/api/presence/${user}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { sessions: unknown[] }).sessions;
}

/** Fill in the user, press Connect, wait for `open`. */
async function connectAs(page: Page, user: string): Promise<void> {
  await page.fill('#user', user);
  await page.click('#connect');
  await page.locator('#state[data-kind="open"]').waitFor();
}

/** The payloads of the messages on the page, oldest first, with their positions. */
async function shownMessages(page: Page): Promise<{ position: string; data: string }[]> {
  const rows = page.locator('#messages li');
  const shown: { position: string; data: string }[] = [];
  for (let i = (await rows.count()) - 1; i >= 0; i--) {
    const row = rows.nth(i);
    const position = `${await row.getAttribute('data-stream')} ${await row.getAttribute('data-offset')}`;
    shown.push({ position, data: (await row.locator('.data').textContent()) ?? '' });
  }
  return shown;
}

function messageRow(page: Page, text: string) {
  return page.locator('#messages li').filter({ hasText: text });
}

describe('demo page', () => {
  it('has the browser bundle built', () => assertBuilt(BUNDLE));

  it('connects, shows positions and acks, and reconnects by itself after a gateway restart', async () => {
    await using browser = await launchBrowser();
    const { page } = browser;
    const env = { LIFELINE_API_KEY: API_KEY };
    let cli = await startCli(['serve', '--dev', '--port', '0'], { env });
    try {
      await browser.screenshotOnFailure('demo-reconnect', async () => {
        const state = page.locator('#state');

        await page.goto(`${cli.url}/`);
        await connectAs(page, 'alice');
        assert.match((await page.textContent('#state-detail')) ?? '', /alice over websocket/);
        assert.equal(await page.textContent('#transport'), 'websocket');

        await publish(cli.url, { user: 'alice' }, { text: 'first <b>message</b>' });
        const first = messageRow(page, 'first <b>message</b>');
        await first.waitFor();
        // Shown as text, never parsed as HTML.
        assert.equal(await page.locator('#messages b').count(), 0);
        assert.match((await first.textContent()) ?? '', /user:alice.*offset 1/s);
        // The client acks it within its ack window; the page shows when the gateway got it.
        await first.locator('.ack[data-ack="acked"]').waitFor();
        await page.locator('#acks li', { hasText: 'user:alice offset 1' }).waitFor();

        // Restart the gateway on the same port. The page sees 4007, waits, fetches a new
        // token from the new process and opens a new session without any click.
        const { port } = cli;
        assert.deepEqual(await cli.stop('SIGTERM'), { code: 0, signal: null });
        await state.and(page.locator(':not([data-kind="open"])')).waitFor();
        cli = await startCli(['serve', '--dev', '--port', String(port)], { env });
        await state
          .and(page.locator('[data-kind="open"]'))
          .waitFor({ timeout: RECONNECT_TIMEOUT_MS });

        await publish(cli.url, { user: 'alice' }, 'after the restart');
        await messageRow(page, 'after the restart').waitFor();
        // Failed requests while the server was down are logged; exceptions must not be.
        assert.deepEqual(browser.pageErrors, []);
      });
    } finally {
      await cli[Symbol.asyncDispose]();
    }
  });

  it('subscribes to a channel, publishes from its own form, closes and reconnects', async () => {
    await using browser = await launchBrowser();
    await using cli = await startCli(['serve', '--dev', '--port', '0']);
    const { page } = browser;
    await browser.screenshotOnFailure('demo-channel', async () => {
      await page.goto(`${cli.url}/`);
      await connectAs(page, 'bob');

      await page.fill('#channel', 'news');
      await page.click('#subscribe');
      await page.locator('#channels li', { hasText: 'news' }).waitFor();

      await page.selectOption('#target-kind', 'channel');
      await page.fill('#target-name', 'news');
      await page.fill('#payload', '{ "headline": "extra" }');
      // The subscription is confirmed asynchronously; publish until the push shows up.
      await waitForPush(page, async () => {
        await page.click('#publish');
        await page
          .locator('#publish-result', { hasText: /stored at channel:news offset \d+/ })
          .waitFor();
      });
      assert.match(
        (await page.locator('#messages li').first().textContent()) ?? '',
        /channel:news.*offset \d+/s,
      );
      // Channel acks leave after the client's longer channel window; the gateway has them then.
      await page
        .locator('#messages li[data-stream="channel:news"] .ack[data-ack="acked"]')
        .first()
        .waitFor();

      await page.click('#close');
      await page.locator('#state[data-kind="closed"]').waitFor();
      assert.equal(await page.textContent('#transport'), '—');
      await page.click('#reconnect');
      await page.locator('#state[data-kind="open"]').waitFor();

      // Readable on a phone: one column, nothing wider than the screen.
      await page.setViewportSize({ width: 360, height: 740 });
      // (A string: the tests are type-checked without the DOM library.)
      const widths = (await page.evaluate(
        '({ page: document.documentElement.scrollWidth, screen: window.innerWidth })',
      )) as { page: number; screen: number };
      assert.ok(
        widths.page <= widths.screen,
        `the page is ${widths.page}px wide on a 360px screen`,
      );
      assert.ok(await page.locator('#publish').isVisible());
      assert.deepEqual(browser.pageErrors, []);
      assert.deepEqual(browser.consoleErrors, []);
    });
  });

  it('shows what it missed while the gateway process was down, exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lifeline-browser-data-'));
    const port = await freePort();
    // The same SQLite file and the same keys for every process.
    const args = ['serve', '--dev', '--port', String(port), '--data', dataDir];
    const env = { LIFELINE_API_KEY: API_KEY, LIFELINE_JWT_SECRET: 'browser-test-secret' };
    let cli: RunningCli = await startCli(args, { env });
    // The page reaches the gateway through a proxy that can keep it away while the test
    // publishes to the new process directly.
    await using proxy = await startTcpProxy(port);
    await using browser = await launchBrowser();
    const { page } = browser;
    try {
      await browser.screenshotOnFailure('demo-missed', async () => {
        await page.goto(`http://127.0.0.1:${proxy.port}/`);
        await connectAs(page, 'carol');
        await publish(cli.url, { user: 'carol' }, 'before 1');
        await publish(cli.url, { user: 'carol' }, 'before 2');
        await messageRow(page, 'before 2').waitFor();

        // The network goes, the process dies without a word, a new one starts on the file.
        proxy.refuse(true);
        proxy.cut();
        await page.locator('#state:not([data-kind="open"])').waitFor();
        await cli.stop('SIGKILL', 5_000);
        cli = await startCli(args, { env });
        assert.deepEqual(await presence(cli.url, 'carol'), []);
        await publish(cli.url, { user: 'carol' }, 'missed 1');
        await publish(cli.url, { user: 'carol' }, 'missed 2');

        // The network is back: the page resumes from its positions.
        proxy.refuse(false);
        await messageRow(page, 'missed 2').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
        await page.locator('#state[data-kind="open"]').waitFor();
        await publish(cli.url, { user: 'carol' }, 'after');
        await messageRow(page, 'after').waitFor();

        assert.deepEqual(await shownMessages(page), [
          { position: 'user:carol 1', data: 'before 1' },
          { position: 'user:carol 2', data: 'before 2' },
          { position: 'user:carol 3', data: 'missed 1' },
          { position: 'user:carol 4', data: 'missed 2' },
          { position: 'user:carol 5', data: 'after' },
        ]);
        assert.equal(await page.textContent('#message-count'), '5');
        assert.deepEqual(browser.pageErrors, []);
      });
    } finally {
      await cli[Symbol.asyncDispose]();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('falls back to polling when a proxy refuses WebSocket, and shows it', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0'], {
      env: { LIFELINE_API_KEY: API_KEY },
    });
    await using proxy = await startWsRefusingProxy(cli.port, 'refuse');
    await using browser = await launchBrowser();
    const { page } = browser;
    await browser.screenshotOnFailure('demo-polling', async () => {
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      await page.fill('#user', 'dave');
      await page.click('#connect');
      await page
        .locator('#transport[data-transport="polling"]')
        .waitFor({ timeout: FALLBACK_TIMEOUT_MS });
      await page.locator('#state[data-kind="open"]').waitFor({ timeout: FALLBACK_TIMEOUT_MS });
      assert.match((await page.textContent('#state-detail')) ?? '', /dave over polling/);
      assert.ok(proxy.upgrades >= 1, 'the page tried WebSocket first');

      await publish(cli.url, { user: 'dave' }, 'over polling 1');
      await publish(cli.url, { user: 'dave' }, 'over polling 2');
      await messageRow(page, 'over polling 2').waitFor();
      // Acks travel in the polling transport's POSTs.
      await messageRow(page, 'over polling 2').locator('.ack[data-ack="acked"]').waitFor();
      assert.deepEqual(await shownMessages(page), [
        { position: 'user:dave 1', data: 'over polling 1' },
        { position: 'user:dave 2', data: 'over polling 2' },
      ]);
      assert.equal(await page.textContent('#transport'), 'polling');
      assert.deepEqual(browser.pageErrors, []);
    });
  });

  it('starts on polling with ?fallback=immediate and moves to WebSocket', async () => {
    await using cli = await startCli(['serve', '--dev', '--port', '0'], {
      env: { LIFELINE_API_KEY: API_KEY },
    });
    await using browser = await launchBrowser();
    const { page } = browser;
    await browser.screenshotOnFailure('demo-immediate', async () => {
      await page.goto(`${cli.url}/?fallback=immediate`);
      await connectAs(page, 'erin');
      // The first session is a polling one, while WebSocket is tried in the background;
      // once it answers, the page moves over and says so.
      await page.locator('#log li', { hasText: /connecting attempt \d+ over polling/ }).waitFor();
      await publish(cli.url, { user: 'erin' }, 'at once');
      await messageRow(page, 'at once').waitFor();
      await page.locator('#log li', { hasText: 'transport polling → websocket' }).waitFor();
      await page.locator('#transport[data-transport="websocket"]').waitFor();
      await publish(cli.url, { user: 'erin' }, 'after the switch');
      await messageRow(page, 'after the switch').waitFor();
      assert.deepEqual(await shownMessages(page), [
        { position: 'user:erin 1', data: 'at once' },
        { position: 'user:erin 2', data: 'after the switch' },
      ]);
      assert.deepEqual(browser.pageErrors, []);
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
