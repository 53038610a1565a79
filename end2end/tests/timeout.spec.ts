import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';
import { SHORT_TIMEOUT } from './support/servers';

/**
 * Against the server with a 20-second idle timeout that warns 10 seconds before. With
 * JavaScript only: the warning is a script (app/src/session/timer.js).
 */
test.describe('idle timeout', () => {
  test.use({ baseURL: SHORT_TIMEOUT.url });

  test('warns before the timeout, can be extended, then signs the patient out', async ({ page, guard }) => {
    test.setTimeout(120_000);
    const { idleSecs, warnSecs } = SHORT_TIMEOUT;

    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Alice');
    const signedInAt = Date.now();
    await page.waitForLoadState('networkidle');

    const dialog = page.getByRole('alertdialog', { name: 'Are you still there?' });
    const stay = dialog.getByRole('button', { name: 'Stay signed in' });

    await test.step('the warning comes before the timeout', async () => {
      await expect(dialog).toBeVisible({ timeout: (idleSecs - warnSecs + 5) * 1000 });
      expect(Date.now() - signedInAt, 'the warning waits until the warning period').toBeGreaterThan((idleSecs - warnSecs - 2) * 1000);
      await expect(dialog).toHaveAttribute('aria-modal', 'true');
      await expect(dialog).toContainText(/signed out in \d+ seconds unless you choose to stay signed in/);
      await expect(stay).toBeFocused();
      await guard.scan();
    });

    await test.step('"Stay signed in" keeps the session', async () => {
      await stay.click();
      await expect(dialog).toBeHidden();
      const stayedAt = Date.now();
      // Past the moment the session would have ended without the click ...
      const originalEnd = signedInAt + idleSecs * 1000;
      await page.waitForTimeout(Math.max(0, originalEnd - Date.now()) + 2_000);
      await expect(page).toHaveURL('/home');
      await expect(heading(page)).toHaveText('Welcome, Alice');
      // ... the server still counts the session as open (status is a passive call: it does
      // not itself keep the session alive).
      const status = await page.request.post('/api/session/status', {
        headers: { Origin: SHORT_TIMEOUT.url },
      });
      expect(status.ok()).toBe(true);
      const left = (await status.json()) as { remaining_secs: number };
      expect(left.remaining_secs).toBeGreaterThan(0);
      // And it warns again, a warning period before the new end.
      await expect(dialog).toBeVisible({ timeout: (idleSecs - warnSecs + 5) * 1000 - (Date.now() - stayedAt) });
    });

    await test.step('without an answer, the patient is signed out', async () => {
      await expect(page, 'when the time is up, the browser goes to the sign-in page').toHaveURL('/sign-in?reason=timeout', {
        timeout: (warnSecs + 5) * 1000,
      });
      await expect(page.getByRole('status')).toContainText('no activity');
      await expect(page.getByRole('status')).toHaveText(
        'For your security, you were signed out because there was no activity for a while. Please sign in again.',
      );
      await expect(page.locator('body')).not.toContainText('Alice');
    });

    await test.step('the session is over', async () => {
      await page.goto('/home');
      await expect(page).toHaveURL(/\/sign-in(\?reason=timeout)?$/);
      await expect(heading(page)).toHaveText('Sign in to your patient portal');
    });
  });
});
