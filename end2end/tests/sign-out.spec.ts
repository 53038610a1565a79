import { test, expect } from './support/fixtures';
import { heading } from './support/portal';
import { DEMO_PASSWORD, launchOptions } from './support/servers';

test.use({
  // No request interception in this test: Playwright turns the HTTP cache off while a route
  // is set, and what Back shows depends on that cache. The test scans each page itself.
  scanBeforeLeaving: false,
  // Playwright starts Chromium without the back/forward cache; people's browsers have it.
  launchOptions: { ...launchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] },
});

test.describe('sign-out', () => {
  test('after signing out, Back shows nothing personal', { tag: '@nojs' }, async ({ page, guard, javaScriptEnabled }) => {
    await page.goto('/sign-in');
    await guard.scan();
    await page.getByLabel('User ID').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');
    await guard.scan();

    // Personal pages may not be kept by the browser.
    const home = await page.request.get('/home', { maxRedirects: 0 });
    expect(home.status()).toBe(200);
    expect(home.headers()['cache-control']).toContain('no-store');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL('/sign-in?reason=signed-out');
    await expect(page.getByRole('status')).toHaveText('You have signed out.');
    await expect(page.locator('body')).not.toContainText('Alice');
    await guard.scan();

    await page.goBack();
    // Whatever Back brought up first (a cached page would show at once) ...
    await expect(page.locator('body')).not.toContainText('Welcome, Alice');
    await expect(page.locator('body')).not.toContainText('Alice Johnson');
    // ... settles on the sign-in page: the browser asked for /home again and was redirected.
    await expect(page).toHaveURL('/sign-in');
    await expect(heading(page)).toHaveText('Sign in to your patient portal');
    await expect(page.locator('body')).not.toContainText('Alice');
    await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    if (javaScriptEnabled) {
      const restored = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return nav?.type ?? 'unknown';
      });
      test.info().annotations.push({ type: 'back navigation', description: restored });
    }
  });
});
