/**
 * Passkeys (SPEC R-SES-1) with Chromium's virtual authenticator (DevTools protocol: WebAuthn,
 * an internal authenticator that keeps discoverable credentials and verifies the user), on the
 * PASSKEYS server, whose address is a host name as WebAuthn requires. Clinicians must have a
 * second step on this server (set by the tests below); carol's passkeys are the first test's.
 */
import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';
import { PASSKEYS } from './support/servers';
import { sqlite } from './support/database';

test.use({ baseURL: PASSKEYS.url });

test('a patient adds a passkey after the warning, signs in with it alone; a clone with an old counter and a passkey presented for another user are refused; removed, it no longer works', async ({ page }) => {
  test.skip(test.info().project.name === 'no-js', 'WebAuthn is the browser script');
  // A server reused between runs (no CI) may keep an earlier run's passkey.
  sqlite(PASSKEYS, "DELETE FROM passkeys WHERE user_id = (SELECT id FROM users WHERE login = 'carol')");
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  await test.step('add a passkey: the warning first, then the password, then the device', async () => {
    await signIn(page, 'carol');
    await expect(page).toHaveURL('/home');
    await page.goto('/account');
    await page.getByRole('link', { name: 'Passkeys' }).click();
    await expect(heading(page)).toHaveText('Passkeys');
    await expect(page.getByRole('main')).toContainText('You have no passkeys.');
    await expect(page.getByRole('main')).toContainText(
      'anyone whose fingerprint or face is enrolled on this device, or who knows its passcode, will be able to open your account',
    );
    await page.getByLabel('I understand: only I can unlock this device').check();
    await page.getByLabel(/A name for it/).fill('Carol’s phone');
    await page.getByLabel('Your password').fill('demo-portal-2026');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create the passkey' }).click();
    await expect(page.getByRole('status')).toHaveText('Your passkey is added. Next time, choose “Sign in with a passkey”.');
    await expect(page.getByRole('row', { name: /Carol’s phone/ })).toContainText('Never');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
  });

  await test.step('sign in with the passkey only: no user ID, no password', async () => {
    await page.goto('/sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page).toHaveURL('/home');
    await expect(heading(page)).toHaveText('Welcome, Carol');
  });

  // The device's copy of the passkey, changed as an attacker's clone or forgery would be.
  type Credential = { credentialId: string; isResidentCredential: boolean; rpId?: string; privateKey: string; userHandle?: string; signCount: number };
  const replaceCredential = async (change: (c: Credential) => Credential) => {
    const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as { credentials: Credential[] };
    expect(credentials).toHaveLength(1);
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: credentials[0].credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: change(credentials[0]) });
  };
  const passkeyRefused = async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
    await page.goto('/sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('alert')).toHaveText('That passkey did not work. Sign in with your user ID and password instead.');
    await expect(page).toHaveURL('/sign-in');
  };

  await test.step('a clone whose signature counter went back is refused', async () => {
    await replaceCredential((c) => ({ ...c, signCount: 0 }));
    await passkeyRefused();
    // The real device's counter moves on: it still works.
    await replaceCredential((c) => ({ ...c, signCount: 1000 }));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page).toHaveURL('/home');
  });

  await test.step('Carol\'s passkey never signs in Robert', async () => {
    const robert = sqlite(PASSKEYS, "SELECT id FROM users WHERE login = 'robert'").trim();
    await replaceCredential((c) => ({ ...c, signCount: 2000, userHandle: Buffer.from(robert, 'hex').toString('base64') }));
    await passkeyRefused();
    await replaceCredential((c) => ({ ...c, signCount: 3000, userHandle: Buffer.from(sqlite(PASSKEYS, "SELECT id FROM users WHERE login = 'carol'").trim(), 'hex').toString('base64') }));
    await signIn(page, 'carol');
    await expect(page).toHaveURL('/home');
  });

  await test.step('remove it: passkey sign-in is refused', async () => {
    await page.goto('/account/passkeys');
    await expect(page.getByRole('row', { name: /Carol’s phone/ })).not.toContainText('Never');
    await page.getByRole('button', { name: 'Remove Carol’s phone' }).click();
    await expect(page.getByRole('status')).toHaveText('The passkey is removed.');
    await expect(page.getByRole('main')).toContainText('You have no passkeys.');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in\?reason=signed-out$/);
    await page.goto('/sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect(page.getByRole('alert')).toHaveText('That passkey did not work. Sign in with your user ID and password instead.');
    await expect(page).toHaveURL('/sign-in');
  });
});

/** Clinicians must have a second step on this server (as an administrator sets it on the page). */
function clinicianRequiresSecondStep(): void {
  sqlite(PASSKEYS, "INSERT OR IGNORE INTO second_step_policy (role, required_at, set_by) SELECT 'clinician', 0, id FROM users WHERE login = 'admin'");
}

test('a clinician whose role requires a second step adds a passkey; then the password alone is held at the step, and the passkey lets them in', async ({ page }) => {
  test.skip(test.info().project.name === 'no-js', 'WebAuthn is the browser script');
  clinicianRequiresSecondStep();
  sqlite(PASSKEYS, "DELETE FROM passkeys WHERE user_id = (SELECT id FROM users WHERE login = 'drlee')");
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });

  await test.step('no second step yet: led to set one up, and a passkey will do', async () => {
    await signIn(page, 'drlee', { portal: 'staff' });
    await expect(page).toHaveURL('/staff/second-step');
    await page.getByRole('link', { name: 'add a passkey' }).click();
    await expect(heading(page)).toHaveText('Passkeys');
    await page.getByLabel('I understand: only I can unlock this device').check();
    await page.getByLabel(/A name for it/).fill('Desk key');
    await page.getByLabel('Your password').fill('demo-portal-2026');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create the passkey' }).click();
    await expect(page.getByRole('status')).toContainText('Your passkey is added.');
    await page.goto('/staff');
    await expect(heading(page)).toHaveText(/^Hello, /);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/staff\/sign-in\?reason=signed-out$/);
  });

  await test.step('the password alone: held at the step, nothing else opens', async () => {
    await signIn(page, 'drlee', { portal: 'staff' });
    await expect(page).toHaveURL('/sign-in/code');
    await expect(heading(page)).toHaveText('Confirm it is you');
    await expect(page.getByLabel('Code')).toHaveCount(0);
    await page.goto('/staff/messages');
    await expect(page).toHaveURL('/sign-in/code');
  });

  await test.step('their own passkey: into the staff area', async () => {
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    await expect(page).toHaveURL('/staff');
    await expect(heading(page)).toHaveText(/^Hello, /);
    await page.goto('/staff/messages');
    await expect(page).toHaveURL('/staff/messages');
  });
});

test('without JavaScript, a clinician held for a passkey is told it needs JavaScript', { tag: '@nojs' }, async ({ page }) => {
  clinicianRequiresSecondStep();
  // A passkey on file (made without a browser: this test never uses it).
  sqlite(
    PASSKEYS,
    "INSERT OR IGNORE INTO passkeys (id, user_id, name, credential_id, passkey, created_at) SELECT 'e2e-nursekim', id, 'Phone', 'e2e-nursekim-credential', '{}', 0 FROM users WHERE login = 'nursekim'",
  );
  await signIn(page, 'nursekim', { portal: 'staff' });
  await expect(page).toHaveURL('/sign-in/code');
  await expect(heading(page)).toHaveText('Confirm it is you');
  const needsScript = page.getByText('A passkey needs JavaScript, which is turned off in this browser.');
  if (test.info().project.name === 'no-js') {
    await expect(needsScript).toBeVisible();
    await expect(page.getByRole('button', { name: 'Use your passkey' })).toBeHidden();
  } else {
    await expect(page.getByRole('button', { name: 'Use your passkey' })).toBeVisible();
    await expect(needsScript).toBeHidden();
  }
});
