import { test, expect } from './support/fixtures';
import { expectCurrentLink, expectFooter, heading, mainNav, signIn } from './support/portal';

test.describe('patient', () => {
  test('signs in and visits every section of the navigation', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');
    await expect(page.locator('.who__name')).toHaveText('Alice Johnson');
    await expect(page).toHaveTitle('Home | Patient portal');
    const nav = mainNav(page);
    await expectCurrentLink(nav, 'Home');
    await expect(page.getByRole('complementary', { name: 'Emergencies' })).toContainText('call 911');
    await expectFooter(page);

    const sections = [
      { link: 'Messages', path: '/messages', h1: 'Messages', title: 'Messages | Patient portal' },
      { link: 'My Medical Record', path: '/record', h1: 'My Medical Record', title: 'My Medical Record | Patient portal' },
      { link: 'Billing', path: '/billing', h1: 'Billing Summary', title: 'Billing Summary | Patient portal' },
      { link: 'Video visits', path: '/visits', h1: 'Video visits', title: 'Video visits | Patient portal' },
      { link: 'Account', path: '/account', h1: 'Account', title: 'Account | Patient portal' },
    ];
    for (const s of sections) {
      await test.step(s.link, async () => {
        await nav.getByRole('link', { name: s.link, exact: true }).click();
        await expect(page).toHaveURL(s.path);
        await expect(heading(page)).toHaveText(s.h1);
        await expect(page).toHaveTitle(s.title);
        await expectCurrentLink(nav, s.link);
      });
    }

    await test.step('Account activity', async () => {
      await page.getByRole('main').getByRole('link', { name: 'Account activity' }).click();
      await expect(page).toHaveURL('/account/activity');
      await expect(heading(page)).toHaveText('Account activity');
      await expect(page).toHaveTitle('Account activity | Patient portal');
      // A sub-page of Account: Account stays the current section.
      await expectCurrentLink(nav, 'Account');
      const table = page.getByRole('table', { name: 'Account activity, newest first' });
      await expect(table).toBeVisible();
      await expect(table.getByRole('row').filter({ hasText: 'Signed in' }).first()).toBeVisible();
      await expect(table.getByRole('row').nth(1).getByRole('cell').first()).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    });
  });
});
