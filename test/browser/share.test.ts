/**
 * Tabs sharing one connection in a real browser (Debian's Chromium through
 * playwright-core), against the built CLI: two tabs of one user hold one WebSocket between
 * them, and when the leader's tab closes the other takes over and resumes — every message
 * once, none lost: one that arrived as the leader closed, one published while no tab held
 * the connection. The same when the leader's renderer crashes (Chrome DevTools Protocol
 * `Page.crash`): no goodbye, only the lock the browser releases. And when a follower's
 * renderer crashes, the leader lets go of its channels (it asks `navigator.locks.query()`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { LifelineClient } from '../../src/entries/client.js';
import { launchBrowser } from '../helpers/browser.js';
import { assertBuilt, startCli } from '../helpers/cli.js';
import {
  openShareTab,
  routeSharePage,
  SHARED_BUNDLE,
  type ShareTab,
} from '../helpers/share-page.js';
import { waitFor } from '../helpers/wait.js';

const API_KEY = 'share-test-api-key';

/** The channels of alice's sessions, from the gateway's presence API. */
async function channels(url: string): Promise<string[]> {
  const res = await fetch(`${url}/api/presence/alice`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  const body = (await res.json()) as { sessions: { channels: string[] }[] };
  return body.sessions.flatMap((s) => s.channels);
}

async function crash(context: BrowserContext, page: Page): Promise<void> {
  const crashed = new Promise((resolve) => page.once('crash', resolve));
  const cdp = await context.newCDPSession(page);
  void cdp.send('Page.crash').catch(() => {}); // the session dies with the page
  await crashed;
}

async function publish(url: string, data: unknown): Promise<void> {
  const res = await fetch(`${url}/api/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: { user: 'alice' }, data }),
  });
  assert.equal(res.status, 200, await res.text());
}

interface TwoTabs {
  readonly browser: Awaited<ReturnType<typeof launchBrowser>>;
  readonly url: string;
  readonly leader: ShareTab;
  readonly follower: ShareTab;
}

/**
 * A browser and `lifeline serve --dev`, and two tabs of alice on the share page: the first
 * leads. Both are stopped afterwards; a failure saves a screenshot named `label`.
 */
async function withTwoTabs(
  label: string,
  body: (tabs: TwoTabs) => Promise<void>,
  confirmTimeoutMs?: number,
): Promise<void> {
  await using browser = await launchBrowser();
  await using cli = await startCli(['serve', '--dev', '--port', '0'], {
    env: { LIFELINE_API_KEY: API_KEY },
  });
  const { context } = browser;
  const { url } = cli;
  await browser.screenshotOnFailure(label, async () => {
    await routeSharePage(context, url);
    const leader = await openShareTab(context, url, 'alice', browser.page, confirmTimeoutMs);
    const follower = await openShareTab(context, url, 'alice', undefined, confirmTimeoutMs);
    await body({ browser, url, leader, follower });
  });
}

describe('shareConnection in a browser', () => {
  it('has the shared bundle built', () => assertBuilt(SHARED_BUNDLE));

  it('two tabs hold one connection between them, and closing the leader loses nothing', async () => {
    await withTwoTabs('share-two-tabs', async ({ browser, url, leader, follower }) => {
      assert.equal(leader.sockets(), 1);
      assert.equal(follower.sockets(), 0, 'the second tab goes through the first');

      for (let n = 1; n <= 3; n++) await publish(url, { n });
      await waitFor(async () => assert.deepEqual(await follower.offsets(), [1, 2, 3]));
      assert.deepEqual(await leader.offsets(), [1, 2, 3]);

      // A message arrives as the leader's tab goes away (the follower may or may not have
      // had it from the leader), another while no tab holds the connection.
      await publish(url, { n: 4 });
      await leader.page.close();
      await publish(url, { n: 5 });
      await follower.page.locator('#state', { hasText: /^open$/ }).waitFor();
      await waitFor(async () => assert.deepEqual(await follower.offsets(), [1, 2, 3, 4, 5]), {
        timeoutMs: 15_000,
      });
      assert.equal(follower.sockets(), 1, 'the follower took the connection over');

      await publish(url, { n: 6 });
      await waitFor(async () => assert.deepEqual(await follower.offsets(), [1, 2, 3, 4, 5, 6]));
      assert.deepEqual(browser.pageErrors, []);
    });
  });

  it('loses nothing when the renderer of the leader crashes', async () => {
    await withTwoTabs('share-leader-crash', async ({ browser, url, leader, follower }) => {
      for (let n = 1; n <= 3; n++) await publish(url, { n });
      await waitFor(async () => assert.deepEqual(await follower.offsets(), [1, 2, 3]));

      // No pagehide, no goodbye: the browser releases the dead tab's lock.
      await crash(browser.context, leader.page);
      await publish(url, { n: 4 });
      await waitFor(async () => assert.deepEqual(await follower.offsets(), [1, 2, 3, 4]), {
        timeoutMs: 15_000,
      });
      assert.equal(follower.sockets(), 1, 'the follower took the connection over');
    });
  });

  it('lets go of the channels of a follower whose renderer crashed', async () => {
    await withTwoTabs(
      'share-follower-crash',
      async ({ browser, url, leader, follower }) => {
        await follower.page.evaluate(() => {
          const share = (globalThis as unknown as { shareTest: { client: LifelineClient } })
            .shareTest;
          share.client.subscribe('follower-news');
        });
        await waitFor(async () => assert.deepEqual(await channels(url), ['follower-news']));

        await crash(browser.context, follower.page);
        await waitFor(async () => assert.deepEqual(await channels(url), []), {
          timeoutMs: 15_000,
        });
        assert.equal(leader.sockets(), 1, 'the leader kept its connection');
      },
      2_000,
    );
  });
});
