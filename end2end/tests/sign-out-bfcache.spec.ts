import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';
import { launchOptions } from './support/servers';

// Playwright starts Chromium without the back/forward cache (--disable-back-forward-cache);
// people's browsers have it, and it is what brings a page back on Back without asking the
// server. This file runs Chromium as people have it.
test.use({
  launchOptions: { ...launchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] },
});

test.describe('sign-out, with the back/forward cache', () => {
  test('after signing out, Back shows nothing personal', { tag: '@nojs' }, async ({ page }) => {
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
