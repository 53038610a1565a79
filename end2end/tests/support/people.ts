/**
 * Tests in which more than one person acts (a patient and a staff member, each in their own
 * browser): `openPage` opens another browser (context) with the project's settings, and every
 * page visited in it is checked by its own guard (axe-core, foreign requests), exactly as the
 * test's own `page` is (see fixtures.ts).
 *
 * Also: unique names, e-mail addresses and client addresses, so that tests can run again
 * against a server that has kept the data of earlier runs.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { test as base, expect, PageGuard } from './fixtures';

export const test = base.extend<{ openPage: () => Promise<Page> }>({
  openPage: async ({ browser, baseURL, javaScriptEnabled, viewport }, use, testInfo) => {
    const opened: { context: BrowserContext; guard: PageGuard }[] = [];
    await use(async () => {
      const context = await browser.newContext({
        baseURL,
        javaScriptEnabled,
        viewport,
        // As in playwright.config.ts: guard.scan() injects axe-core into the page itself, which
        // the pages' Content-Security-Policy would refuse.
        bypassCSP: true,
      });
      const page = await context.newPage();
      const guard = new PageGuard(page, new URL(baseURL!).origin, browser, javaScriptEnabled !== false, testInfo);
      guard.start();
      opened.push({ context, guard });
      return page;
    });
    const failures: string[] = [];
    for (const { context, guard } of opened) {
      await guard.finish().catch((e: Error) => failures.push(e.message));
      await context.close().catch(() => undefined);
    }
    if (failures.length) throw new Error(`In another browser of the test:\n${failures.join('\n\n')}`);
  },
});

export { expect };

let counter = 0;

/** Letters only (names take them well), different in every run and every worker. */
export function uniqueLetters(): string {
  counter += 1;
  const n = Date.now() * 1000 + ((process.pid * 31 + counter * 7919) % 1000);
  // Base 26, a..z.
  let s = '';
  let x = n;
  while (x > 0) {
    s = String.fromCharCode(97 + (x % 26)) + s;
    x = Math.floor(x / 26);
  }
  return s;
}

/** A client address from 198.18.0.0/15 (RFC 2544, benchmarking), different for every call. */
export function uniqueClientAddress(): string {
  const n = Math.floor(Math.random() * 0x20000);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}
