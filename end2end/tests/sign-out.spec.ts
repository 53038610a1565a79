import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';

test.describe('sign-out', () => {
  test('after signing out, Back asks the server again and shows nothing personal', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');

    // Personal pages may not be kept by the browser.
    const home = await page.request.get('/home', { maxRedirects: 0 });
    expect(home.status()).toBe(200);
    expect(home.headers()['cache-control']).toContain('no-store');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL('/sign-in?reason=signed-out');
    await expect(page.getByRole('status')).toHaveText('You have signed out.');
    await expect(page.locator('body')).not.toContainText('Alice');

    // (Playwright's Chromium runs without the back/forward cache: see sign-out-bfcache.spec.ts.)
    await page.goBack();
    await expect(page).toHaveURL('/sign-in');
    await expect(heading(page)).toHaveText('Sign in to your patient portal');
    await expect(page.locator('body')).not.toContainText('Alice');
    await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  });
});
