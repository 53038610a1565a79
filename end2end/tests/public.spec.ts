import { test, expect } from './support/fixtures';
import { expectFooter, heading } from './support/portal';

const PAGES = [
  { path: '/terms', h1: 'Terms and conditions', title: 'Terms and conditions | Patient portal', status: 200 },
  { path: '/privacy', h1: 'Notice of Privacy Practices', title: 'Notice of Privacy Practices | Patient portal', status: 200 },
  { path: '/help', h1: 'Help', title: 'Help | Patient portal', status: 200 },
  { path: '/sign-in', h1: 'Sign in to your patient portal', title: 'Sign in to your patient portal', status: 200 },
  { path: '/staff/sign-in', h1: 'Staff sign-in', title: 'Staff sign-in', status: 200 },
  { path: '/no-such-page', h1: 'Page not found', title: 'Page not found | Patient portal', status: 404 },
];

test.describe('public pages', () => {
  for (const p of PAGES) {
    test(`${p.path} has the footer links and the help line`, { tag: '@nojs' }, async ({ page }) => {
      const response = await page.goto(p.path);
      expect(response?.status()).toBe(p.status);
      await expect(page).toHaveURL(p.path);
      await expect(heading(page)).toHaveText(p.h1);
      await expect(page).toHaveTitle(p.title);
      await expect(page.getByRole('main')).toHaveCount(1);
      await expect(page.getByRole('link', { name: 'Skip to main content' })).toHaveAttribute('href', '#main');
      await expectFooter(page);
      // Nobody is signed in: no sign-out button, no patient navigation.
      await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
      await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
    });
  }

  test('the help page gives the phone number', { tag: '@nojs' }, async ({ page }) => {
    await page.goto('/help');
    await expect(page.getByRole('main')).toContainText(
      'For help with signing in or using the portal, call (555) 010-0100 on weekdays between 8 am and 5 pm.',
    );
  });

  test('the footer links lead to the terms and the privacy notice', { tag: '@nojs' }, async ({ page }) => {
    await page.goto('/help');
    await page.getByRole('contentinfo').getByRole('link', { name: 'Terms and conditions' }).click();
    await expect(page).toHaveURL('/terms');
    await expect(heading(page)).toHaveText('Terms and conditions');
    await page.getByRole('contentinfo').getByRole('link', { name: 'Notice of Privacy Practices' }).click();
    await expect(page).toHaveURL('/privacy');
    await expect(heading(page)).toHaveText('Notice of Privacy Practices');
    await expect(page).toHaveTitle('Notice of Privacy Practices | Patient portal');
  });
});
