import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';

test.describe('staff and patient areas', () => {
  test('a clinician signs in on the staff sign-in page', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'drlee', { portal: 'staff' });
    await expect(page).toHaveURL('/staff');
    await expect(page).toHaveTitle('Staff | Patient portal');
    await expect(heading(page)).toHaveText('Hello, Dr. Morgan Lee');
    const nav = page.getByRole('navigation', { name: 'Staff' });
    await expect(nav.locator('.role-badge')).toHaveText('Clinician');
    await expect(page.getByRole('main')).toContainText('You are signed in as Clinician.');
    await expect(nav.getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');
    // Staff pages are not patient pages: no patient navigation.
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  });

  test('a patient cannot open the staff area: it sends them to the staff sign-in', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'robert');
    await expect(page).toHaveURL('/home');
    // The server's answer to /staff (page.request shares the browser's cookies).
    const answer = await page.request.get('/staff', { maxRedirects: 0 });
    expect(answer.status(), 'GET /staff as a patient').toBe(303);
    expect(answer.headers()['location']).toBe('/staff/sign-in');

    await page.goto('/staff');
    await expect(page.getByRole('navigation', { name: 'Staff' })).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText('You are signed in as');
    await expect(page, 'where the patient lands').toHaveURL('/staff/sign-in');
    await expect(heading(page)).toHaveText('Staff sign-in');
  });

  test('staff cannot open the patient pages: they are sent to the patient sign-in', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'nursekim', { portal: 'staff' });
    await expect(page).toHaveURL('/staff');
    const answer = await page.request.get('/home', { maxRedirects: 0 });
    expect(answer.status(), 'GET /home as staff').toBe(303);
    expect(answer.headers()['location']).toBe('/sign-in');

    await page.goto('/home');
    await expect(page.locator('body')).not.toContainText('Welcome');
    await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
    await expect(page, 'where the staff member lands').toHaveURL('/sign-in');
    await expect(heading(page)).toHaveText('Sign in to your patient portal');
  });
});
