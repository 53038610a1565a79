import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';

test.describe('sign-in', () => {
  test('a wrong password is refused with an alert, on the sign-in page', { tag: '@nojs' }, async ({ page }) => {
    // carol: kept apart from the accounts other tests sign in with, so that failures never
    // add up to throttling for them.
    await signIn(page, 'carol', { password: 'not-the-password' });
    await expect(page).toHaveURL('/sign-in?error=refused');
    await expect(heading(page)).toHaveText('Sign in to your patient portal');
    const alert = page.getByRole('alert');
    await expect(alert).toHaveText('That user ID and password do not match our records. Check them and try again.');
    // Still a sign-in form to try again, and nothing of the account on the page.
    await expect(page.getByLabel('User ID')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText('Carol');
    // No session was opened: the patient's pages still send the visitor to sign in.
    await page.goto('/home');
    await expect(page).toHaveURL('/sign-in');
  });
});
