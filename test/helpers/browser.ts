/**
 * Driving Debian's Chromium from tests with playwright-core (which downloads no browser
 * of its own). A missing Chromium fails the test with the command that installs it: the
 * browser tests are never skipped silently.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The Chromium binary; `LIFELINE_CHROMIUM` overrides it. */
export const CHROMIUM_PATH = process.env['LIFELINE_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Where failure screenshots go: `LIFELINE_SCREENSHOT_DIR`, else a folder in the system's
 * temp directory. The path of each one is printed.
 */
export const SCREENSHOT_DIR =
  process.env['LIFELINE_SCREENSHOT_DIR'] ?? join(tmpdir(), 'lifeline-screenshots');

// Headless, no sandbox (containers run as root), and no background traffic of its own,
// so a test sees only the requests the page makes.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserFixture extends AsyncDisposable {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught exceptions of the page, in order. */
  readonly pageErrors: readonly string[];
  /**
   * Console errors, in order. Kept apart from `pageErrors`: the browser logs every failed
   * request here, which is expected while a test has the server down.
   */
  readonly consoleErrors: readonly string[];
  /**
   * Run `fn`; when it throws, save a full-page screenshot as `<SCREENSHOT_DIR>/<name>.png`,
   * print its path and the page's own event log, then rethrow.
   */
  screenshotOnFailure<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** Launch Chromium with a fresh profile and open one page. */
export async function launchBrowser(): Promise<BrowserFixture> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` ` +
        '(or point LIFELINE_CHROMIUM at a Chromium binary)',
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'lifeline-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });

  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    async screenshotOnFailure(name, fn) {
      try {
        return await fn();
      } catch (error) {
        await mkdir(SCREENSHOT_DIR, { recursive: true });
        const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
        await page.screenshot({ path, fullPage: true, timeout: 5_000 }).then(
          () => console.error(`screenshot saved to ${path}`),
          (shotError: unknown) => console.error(`no screenshot: ${String(shotError)}`),
        );
        // The demo page logs its state changes and errors in `#log`, newest first.
        const events = await page
          .locator('#log li')
          .allTextContents()
          .catch(() => []);
        if (events.length > 0) console.error(`page events:\n  ${events.join('\n  ')}`);
        throw error;
      }
    },
    async [Symbol.asyncDispose]() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
