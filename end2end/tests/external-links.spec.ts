/**
 * Links to other sites (SPEC R-GEN-6) and the Notice of Privacy Practices (R-GEN-7), on the
 * VISITS server: the notice is reached from the footer and from the terms; its outside link
 * (the complaints office) says it opens another site and goes through the leaving page, which
 * names the host and links on only to exactly that address (never followed here: no internet);
 * a forged link gets the refusal page (400) and no way on.
 */
import { test, expect } from './support/people';
import { heading } from './support/portal';
import { VISITS } from './support/servers';

test.use({ baseURL: VISITS.url });

test.describe('links to other sites', () => {
  test('the privacy notice from the footer and the terms; its outside link through the leaving page and Back', { tag: '@nojs' }, async ({ page }) => {
    await test.step('from the footer of the sign-in page', async () => {
      await page.goto('/sign-in');
      await page.getByRole('contentinfo').getByRole('link', { name: 'Notice of Privacy Practices' }).click();
      await expect(page).toHaveURL('/privacy');
      await expect(heading(page)).toHaveText('Notice of Privacy Practices');
      const main = page.getByRole('main');
      for (const section of ['How we use and disclose health information about you', 'Your rights', 'Our duties', 'Complaints', 'Contact', 'Effective date']) {
        await expect(main.getByRole('heading', { name: section, level: 2 })).toBeVisible();
      }
      await expect(main).toContainText('Riverside Community Clinic');
    });

    await test.step('from the terms', async () => {
      await page.goto('/terms');
      await page.getByRole('main').getByRole('link', { name: 'Notice of Privacy Practices' }).click();
      await expect(page).toHaveURL('/privacy');
    });

    await test.step('the complaints office: marked, through the leaving page', async () => {
      const link = page.getByRole('main').getByRole('link', { name: /www\.hhs\.gov.*\(opens another site\)/ });
      await expect(link).toHaveAttribute('rel', 'external noopener');
      await expect(link).toHaveAttribute('href', /^\/leaving\?to=https%3A%2F%2Fwww\.hhs\.gov%2Focr%2Fcomplaints%2F&sig=/);
      await link.click();
      await expect(page).toHaveURL(/\/leaving\?/);
      await expect(heading(page)).toHaveText('You are leaving the portal');
      await expect(page.locator('.leaving__host strong')).toHaveText('www.hhs.gov');
      const go = page.getByRole('link', { name: /^Continue to www\.hhs\.gov/ });
      await expect(go).toHaveAttribute('href', 'https://www.hhs.gov/ocr/complaints/');
      await expect(go).toHaveAttribute('rel', 'external noopener noreferrer');
      await page.getByRole('link', { name: 'Back', exact: true }).click();
      await expect(page).toHaveURL('/privacy');
      await expect(heading(page)).toHaveText('Notice of Privacy Practices');
    });
  });

  test('an altered or forged link is refused, with no way on', { tag: '@nojs' }, async ({ page }) => {
    await page.goto('/privacy');
    const href = await page.getByRole('main').getByRole('link', { name: /www\.hhs\.gov/ }).getAttribute('href');
    const altered = href!.replace('www.hhs.gov', 'evil.example');
    for (const path of [altered, '/leaving?to=https%3A%2F%2Fevil.example%2F&sig=AAAA', '/leaving?to=javascript%3Aalert(1)&sig=AAAA']) {
      const response = await page.goto(path);
      expect(response!.status(), path).toBe(400);
      await expect(heading(page)).toHaveText('This link cannot be followed');
      await expect(page.getByRole('alert')).toContainText('will not send you on');
      await expect(page.locator('a[href^="http"], a[href^="javascript"]')).toHaveCount(0);
    }
  });
});
