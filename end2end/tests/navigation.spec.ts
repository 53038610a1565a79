import { test, expect } from './support/fixtures';
import { expectCurrentLink, heading, mainNav, signIn, waitForHydration } from './support/portal';

type Marked = Window & { __marker?: number };

test.describe('navigation after the first page', () => {
  test('nav links change the page without a full document load', async ({ page }) => {
    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');
    await waitForHydration(page);

    const documentLoads: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest()) documentLoads.push(r.url());
    });
    await page.evaluate(() => {
      (window as Marked).__marker = 1;
    });

    const nav = mainNav(page);
    await nav.getByRole('link', { name: 'Messages', exact: true }).click();
    await expect(page).toHaveURL('/messages');
    await expect(heading(page)).toHaveText('Messages');
    await expect(page).toHaveTitle('Messages | Patient portal');
    await expectCurrentLink(nav, 'Messages');
    // As after a full page load, a screen reader's user finds themselves at the new page's start.
    await expect(heading(page), 'focus moves to the new page heading').toBeFocused();
    expect(await page.evaluate(() => (window as Marked).__marker), 'window state survives: no document load').toBe(1);

    await nav.getByRole('link', { name: 'Billing', exact: true }).click();
    await expect(page).toHaveURL('/billing');
    await expect(heading(page)).toHaveText('Billing Summary');
    await expectCurrentLink(nav, 'Billing');

    // Back is handled by the router too.
    await page.goBack();
    await expect(page).toHaveURL('/messages');
    await expect(heading(page)).toHaveText('Messages');
    await expectCurrentLink(nav, 'Messages');

    expect(await page.evaluate(() => (window as Marked).__marker), 'window state survives: no document load').toBe(1);
    expect(documentLoads, 'document requests during the navigation').toEqual([]);
  });
});
