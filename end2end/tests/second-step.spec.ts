/**
 * The authenticator-app second step (SPEC R-SES-1), as a patient sets it up and uses it, on the
 * ACCOUNTS server with a newly enrolled patient of each run (so no other test's patient is ever
 * asked for a code).
 */
import { test, expect } from './support/people';
import { heading, signIn } from './support/portal';
import { ACCOUNTS } from './support/servers';
import { enrol, newPerson } from './support/enrol';
import { currentStep, totpCode } from './support/totp';

test.use({ baseURL: ACCOUNTS.url });

test('a patient turns on the authenticator-app step, signs in with a fresh code, a reused code is refused, a recovery code works once', { tag: '@nojs' }, async ({ page }) => {
  test.setTimeout(90_000);
  const person = newPerson();
  await enrol(ACCOUNTS, person);
  const signInWithPassword = async () => {
    await signIn(page, person.userId, { password: person.password });
    await expect(page).toHaveURL('/sign-in/code');
    await expect(heading(page)).toHaveText('Enter your sign-in code');
  };

  let key = '';
  let setupStep = 0;
  let recoveryCodes: string[] = [];
  await test.step('set up from the Account page: password again, scan (or type) the key, confirm with a code', async () => {
    await signIn(page, person.userId, { password: person.password });
    await expect(page).toHaveURL('/home');
    await page.goto('/account');
    await page.getByRole('link', { name: 'Sign-in code from an authenticator app' }).click();
    await expect(heading(page)).toHaveText('Sign-in code from an authenticator app');
    await page.getByLabel('Your password').fill(person.password);
    await page.getByRole('button', { name: 'Set up the step' }).click();
    await expect(page.getByRole('img', { name: 'QR code to scan with your authenticator app' })).toBeVisible();
    key = (await page.locator('code.secret').textContent())!.trim();
    expect(key.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
    setupStep = currentStep();
    await page.getByLabel('The 6-digit code the app shows').fill(totpCode(key, setupStep));
    await page.getByRole('button', { name: 'Turn the step on' }).click();
    const shown = page.getByRole('status').filter({ hasText: 'Your recovery codes' });
    await expect(shown).toContainText('They are shown only now.');
    recoveryCodes = await shown.locator('.recovery-codes code').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.reload();
    await expect(page.getByRole('main')).toContainText('The step is on. Recovery codes left: 10.');
    await expect(page.getByRole('main')).not.toContainText(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
  });

  await test.step('the code used at setup is refused; a fresh one signs in', async () => {
    await signInWithPassword();
    await page.getByLabel('Code').fill(totpCode(key, setupStep));
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('alert')).toContainText('That code did not work.');
    await page.getByLabel('Code').fill(totpCode(key, setupStep + 1));
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page).toHaveURL('/home');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
  });

  await test.step('a recovery code works once', async () => {
    await signInWithPassword();
    await page.getByLabel('Code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page).toHaveURL('/home?recovery=1');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
    await signInWithPassword();
    await page.getByLabel('Code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('alert')).toContainText('That code did not work.');
  });
});
