import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';
import { SECURE_COOKIES, launchOptions } from './support/servers';

// Playwright starts Chromium without the back/forward cache (--disable-back-forward-cache);
// people's browsers have it, and it is what brings a page back on Back without asking the
// server. This file runs Chromium as people have it, against the portal as it is deployed:
// behind TLS, with `Secure` `__Host-` cookies. (Chromium keeps a `no-store` page in that cache
// unless a secure cookie changed meanwhile; sign-out removes the secure session cookie.)
test.use({
  baseURL: SECURE_COOKIES.url,
  launchOptions: { ...launchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] },
});

// With JavaScript on only. With JavaScript off, Chromium 156 restores the signed-in page from
// this cache on Back although it was sent `no-store` and sign-out removed the session cookie and
// sent Clear-Site-Data; no response header changes that (docs/limitations.md).
test.describe('sign-out, with the back/forward cache', () => {
  test('after signing out, Back shows nothing personal', async ({ page }) => {
    // How each page came to be shown (Chromium's own account: Navigation, BackForwardCacheRestore...).
    const shown: string[] = [];
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Page.enable');
    cdp.on('Page.frameNavigated', (e) => {
      if (!e.frame.parentId) shown.push(`${e.type} ${new URL(e.frame.url).pathname}`);
    });

    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL('/sign-in?reason=signed-out');
    await expect(page.getByRole('status')).toHaveText('You have signed out.');
    await expect(page.locator('body')).not.toContainText('Alice');

    // A page restored from the back/forward cache fires no load event: wait for the commit only.
    await page.goBack({ waitUntil: 'commit' });
    const body = page.locator('body');
    await expect(body, `Back showed a personal page (navigations: ${shown.join(', ')})`).not.toContainText('Welcome, Alice');
    await expect(body).not.toContainText('Alice Johnson');
    await expect(page).toHaveURL('/sign-in');
    await expect(heading(page)).toHaveText('Sign in to your patient portal');
    await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    await cdp.detach();
  });
});
