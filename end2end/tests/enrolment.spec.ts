/**
 * Enrolment, as a new patient and the front desk live it (SPEC R-ENR-1, -2, -3, -4, -6, R-BIL-1):
 * the request, the staff queue and the activation code, choosing a user ID and password, the
 * paperless notice; and, for a patient enrolled earlier (through the same forms, without a
 * browser: support/enrol.ts), a forgotten password reset by e-mail.
 *
 * Against the ACCOUNTS server (see servers.ts): each new person's browser comes from a client
 * address of its own, so the per-address limits on the anonymous forms never throttle a re-run.
 */
import type { Page } from '@playwright/test';
import { test, expect } from './support/people';
import { enrol, newPerson, type NewPerson as Person } from './support/enrol';
import { linkIn, mailOf, waitForMail } from './support/mail';
import { heading, signIn, waitForHydration } from './support/portal';
import { ACCOUNTS } from './support/servers';

test.use({ baseURL: ACCOUNTS.url });
test.describe.configure({ mode: 'parallel' });

const PHONE = '(555) 010-0100';

async function askForAccess(page: Page, person: Person): Promise<void> {
  await page.goto('/sign-in');
  await page.getByRole('link', { name: 'ask for access' }).click();
  await expect(page).toHaveURL('/enrol');
  await expect(heading(page)).toHaveText('Ask for access to the patient portal');
  await expect(page).toHaveTitle('Ask for access | Patient portal');

  await page.getByLabel('First name').fill(person.givenName);
  await page.getByLabel('Last name').fill(person.familyName);
  await page.getByLabel('Date of birth').fill(person.dateOfBirth);
  await page.getByLabel('Personal e-mail address').fill(person.email);

  // The terms, in a box of their own that scrolls (and can be scrolled from the keyboard).
  const terms = page.getByRole('region', { name: /terms and conditions \(version \d+\)$/i });
  await expect(terms).toBeVisible();
  await expect(terms).toHaveAttribute('tabindex', '0');
  const box = await terms.evaluate((el) => ({
    overflow: getComputedStyle(el).overflowY,
    scrollHeight: el.scrollHeight,
    clientHeight: el.clientHeight,
  }));
  expect(['auto', 'scroll'], 'the terms box scrolls').toContain(box.overflow);
  expect(box.scrollHeight, 'the terms are longer than their box').toBeGreaterThan(box.clientHeight);
  await expect(terms.getByRole('link', { name: 'Notice of Privacy Practices' })).toHaveAttribute('href', '/privacy');

  await page.getByLabel('I have read and agree to the terms and conditions').check();
  await page.getByRole('button', { name: 'Send my request' }).click();

  await expect(page).toHaveURL('/enrol/sent');
  await expect(heading(page)).toHaveText('Thank you: we have your request');
  const main = page.getByRole('main');
  await expect(main).toContainText('we will e-mail you an activation code, usually within 2 business days');
  await expect(main).toContainText(`If you do not hear from us, please call ${PHONE}.`);
  await expect(main.getByRole('link', { name: 'Set up your account' })).toHaveAttribute('href', '/activate');
}

/** The front desk approves the request with a new patient record; returns the code shown. */
async function approve(staff: Page, person: Person): Promise<string> {
  await signIn(staff, 'frontdesk', { portal: 'staff' });
  await expect(staff).toHaveURL('/staff');
  await staff.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Enrolment requests' }).click();
  await expect(staff).toHaveURL('/staff/enrolment');
  await expect(heading(staff)).toHaveText('Enrolment requests');

  const request = staff.getByRole('table', { name: 'Requests waiting, oldest first' }).getByRole('row').filter({ hasText: person.email });
  await expect(request).toHaveCount(1);
  await expect(request).toContainText(person.dateOfBirth);
  await request.getByRole('link', { name: person.fullName }).click();

  await expect(heading(staff)).toHaveText(`Enrolment request: ${person.fullName}`);
  await expect(staff.getByRole('main')).toContainText('No existing record matches these details.');
  const newRecord = staff.getByRole('region', { name: 'Create a new patient record from this request' });
  // A record made from the request has the request's address: the code may be e-mailed there.
  const emailCode = newRecord.getByLabel(`Also e-mail the activation code to ${person.email}`);
  await expect(emailCode, 'e-mailing the code is the default').toBeChecked();
  const codePage = staff.waitForResponse((r) => r.request().method() === 'GET' && /^\/staff\/patients\/[^/]+\/code$/.test(new URL(r.url()).pathname));
  await newRecord.getByRole('button', { name: 'Create a new record and issue code' }).click();
  // The page's own headers (set while it renders) must reach the browser: its
  // Content-Security-Policy with this response's nonce, and the cookie that ends "shown once".
  expect(await (await codePage).headerValue('content-security-policy'), 'the code page carries its page CSP').toContain("'nonce-");

  await expect(staff).toHaveURL(/\/staff\/patients\/[^/?]+\/code\?emailed=1$/);
  await expect(heading(staff)).toHaveText(`Activation code for ${person.fullName}`);
  await expect(staff.getByRole('status')).toContainText('This code is shown only once.');
  await expect(staff.getByRole('status')).toContainText('It has also been e-mailed');
  const code = (await staff.locator('.activation-code').first().innerText()).trim();
  expect(code, 'the activation code').toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);

  await test.step('the code is shown once only', async () => {
    await staff.reload();
    await expect(staff.getByRole('main')).toContainText('This code has already been shown.');
    await expect(staff.locator('.activation-code')).toHaveCount(0);
    await expect(staff.locator('body')).not.toContainText(code);
  });
  return code;
}

test.describe('enrolment', () => {
  test('a new patient asks for access, the front desk approves, and the patient sets up the account', { tag: '@nojs' }, async ({ page, openPage, javaScriptEnabled }) => {
    // Two people, a mail to wait for and three password hashes: on a loaded machine the default 45 s
    // is not enough (it ran out once, in a no-JS run beside a release build).
    test.setTimeout(120_000);
    const person = newPerson();
    await page.setExtraHTTPHeaders({ 'X-Forwarded-For': person.clientAddress });
    const started = Date.now();

    await test.step('the patient asks for access', () => askForAccess(page, person));

    const staff = await openPage();
    const code = await test.step('the front desk approves the request and issues a code', () => approve(staff, person));

    await test.step('the code also went to the patient by e-mail', async () => {
      const mail = await waitForMail(ACCOUNTS, { to: person.email, subject: 'activation code', since: started });
      expect(mail.body).toContain(code);
      expect(mail.headers['to']).not.toContain(',');
    });

    await test.step('the patient enters the code and date of birth', async () => {
      await page.getByRole('link', { name: 'Set up your account' }).click();
      await expect(page).toHaveURL('/activate');
      await expect(heading(page)).toHaveText('Set up your account');
      // "Dashes and capitals do not matter."
      await page.getByLabel('Activation code').fill(code.toLowerCase());
      await page.getByLabel('Date of birth').fill(person.dateOfBirth);
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page).toHaveURL('/activate/account');
      await expect(heading(page)).toHaveText(`Welcome, ${person.givenName}`);
    });

    const userId = page.getByLabel('User ID');
    const password = page.getByLabel('Password', { exact: true });
    const again = page.getByLabel('Type the password again');
    const email = page.getByLabel('E-mail address for portal notices');
    const paperless = page.getByRole('region', { name: 'Paperless billing' });
    const create = page.getByRole('button', { name: 'Create my account' });

    if (javaScriptEnabled) {
      await test.step('the page says at once whether a user ID is free', async () => {
        await waitForHydration(page);
        await userId.fill('alice');
        await expect(userId).toHaveAccessibleDescription(/That user ID is taken\. Please choose another\./);
        await userId.fill(person.userId);
        await expect(userId).toHaveAccessibleDescription(/That user ID is available\./);
      });
    }

    await test.step('a common password is refused', async () => {
      await userId.fill(person.userId);
      await password.fill('password123');
      await again.fill('password123');
      await expect(email, 'the e-mail address of the request').toHaveValue(person.email);
      await create.click();
      await expect(page).toHaveURL('/activate/account?error=pw-common');
      await expect(heading(page)).toHaveText(`Welcome, ${person.givenName}`);
      await expect(page.getByRole('alert')).toHaveText(
        'Password: Many people use this password, so it is easy to guess. Please choose a different one.',
      );
    });

    await test.step('the patient chooses a user ID and a good password, told first about paperless billing', async () => {
      await expect(email).toHaveValue(person.email);
      await userId.fill(person.userId);
      await password.fill(person.password);
      await again.fill(person.password);
      await expect(paperless).toBeVisible();
      await expect(paperless).toContainText('you are enrolled in paperless billing');
      await expect(paperless).toContainText('Billing → View Account → Paperless Billing');
      await create.click();

      await expect(page).toHaveURL('/home?welcome=1');
      await expect(heading(page)).toHaveText(`Welcome, ${person.givenName}`);
      const ready = page.getByRole('status').filter({ hasText: 'Your account is ready' });
      await expect(ready).toContainText('You are enrolled in paperless billing');
      await expect(ready).toContainText('To go back to paper statements, go to Billing → View Account → Paperless Billing → Update.');
      await expect(ready.getByRole('link', { name: 'Billing' })).toHaveAttribute('href', '/billing');
    });

    await test.step('an e-mail says the account is ready, and paperless', async () => {
      const mail = await waitForMail(ACCOUNTS, { to: person.email, subject: 'account is ready', since: started });
      expect(mail.body).toContain('You are enrolled in paperless billing');
    });

    await test.step('the patient signs out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect(page).toHaveURL('/sign-in?reason=signed-out');
      await expect(page.getByRole('status')).toHaveText('You have signed out.');
    });
  });

  test('a patient who forgot the password gets a link by e-mail and chooses a new one', { tag: '@nojs' }, async ({ page }) => {
    const person = newPerson();
    const newPassword = 'paper kites above the harbour';
    await test.step('(a patient who enrolled earlier)', () => enrol(ACCOUNTS, person));
    await page.setExtraHTTPHeaders({ 'X-Forwarded-For': person.clientAddress });
    const started = Date.now();

    await test.step('on the sign-in page, the patient asks for a new password', async () => {
      await page.goto('/sign-in');
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await expect(page).toHaveURL('/forgot-password');
      await expect(heading(page)).toHaveText('Forgot your password?');
      await page.getByLabel('User ID').fill(person.userId);
      await page.getByLabel('E-mail address').fill(person.email);
      await page.getByRole('button', { name: 'E-mail me a link' }).click();
      await expect(page).toHaveURL('/recovery/sent');
      await expect(heading(page)).toHaveText('Check your e-mail');
      await expect(page.getByRole('main')).toContainText('If the details match an account, we have sent an e-mail with a link.');
    });

    const resetLink = await test.step('the e-mail has a link', async () => {
      const mail = await waitForMail(ACCOUNTS, { to: person.email, subject: 'choose a new password', since: started });
      const link = linkIn(mail.body, '/reset-password');
      expect(link.origin, 'the link leads to the portal').toBe(ACCOUNTS.url);
      expect(link.searchParams.get('token')).toBeTruthy();
      return link.pathname + link.search;
    });

    await test.step('the link opens a form to choose a new password', async () => {
      await page.goto(resetLink);
      await expect(heading(page)).toHaveText('Choose a new password');
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByLabel('Type the new password again').fill(newPassword);
      await page.getByRole('button', { name: 'Save my new password' }).click();
      await expect(page).toHaveURL('/sign-in?reason=password-reset');
      await expect(page.getByRole('status')).toHaveText('Your password has been changed. Sign in with your new password.');
    });

    await test.step('the link works once', async () => {
      await page.goto(resetLink);
      await expect(page.getByRole('alert')).toHaveText('This link has expired or has already been used.');
      await expect(page.getByLabel('New password', { exact: true })).toHaveCount(0);
    });

    await test.step('the old password no longer works; the new one does', async () => {
      await signIn(page, person.userId, { password: person.password });
      await expect(page).toHaveURL('/sign-in?error=refused');
      await signIn(page, person.userId, { password: newPassword });
      await expect(page).toHaveURL('/home');
      await expect(heading(page)).toHaveText(`Welcome, ${person.givenName}`);
    });
  });

  test('someone asks as Dora with another address: the desk is warned, offered only her record\'s address, and told how to hand the code over', { tag: '@nojs' }, async ({ page, openPage }) => {
    // Two people in two browsers, each page checked by axe.
    test.setTimeout(120_000);
    // Whoever knows Dora's name and birth date (her record, MRN100004, has dora.martinez@example.org).
    const asker = { ...newPerson(), givenName: 'Dora', familyName: 'Martinez', fullName: 'Dora Martinez', dateOfBirth: '1952-06-18' };
    await page.setExtraHTTPHeaders({ 'X-Forwarded-For': asker.clientAddress });
    const started = Date.now();
    await test.step('someone asks for access as Dora, with an address of their own', () => askForAccess(page, asker));

    const staff = await openPage();
    await test.step('the front desk opens the request', async () => {
      await signIn(staff, 'frontdesk', { portal: 'staff' });
      // With JavaScript the sign-in is sent by the navigation script: let it land before going on.
      await expect(staff).not.toHaveURL(/sign-in/);
      await staff.goto('/staff/enrolment');
      const request = staff.getByRole('table', { name: 'Requests waiting, oldest first' }).getByRole('row').filter({ hasText: asker.email });
      await request.getByRole('link', { name: 'Dora Martinez' }).click();
      await expect(heading(staff)).toHaveText('Enrolment request: Dora Martinez');
    });

    const record = staff.getByRole('region', { name: 'Dora Martinez — record MRN100004 — born 1952-06-18' });
    await test.step('the desk sees plainly that the addresses differ', async () => {
      await expect(record).toContainText(`The addresses differ: the request gives ${asker.email}, the record has dora.martinez@example.org.`);
      await expect(record).toContainText('Do not send the code to the address in the request');
    });

    await test.step('the e-mail option offers the record\'s address only, and is off', async () => {
      const boxes = record.getByRole('checkbox');
      await expect(boxes).toHaveCount(1);
      await expect(boxes).toHaveAccessibleName('Also e-mail the activation code to the address on this record, dora.martinez@example.org');
      await expect(boxes).not.toBeChecked();
      await expect(record.getByLabel(asker.email)).toHaveCount(0);
    });

    await test.step('the page says how to hand the code over instead', async () => {
      await expect(record).toContainText('Hand the code over in one of these ways instead:');
      await expect(record.getByRole('listitem')).toHaveText([
        "in person, after checking the patient's photo ID;",
        'by post: print the letter shown with the code and send it to the postal address on the patient\'s record;',
        "by phone, after checking the caller's identity: call back the number on the record and ask for details only the patient would know.",
      ]);
    });

    await test.step('approved as the page stands, the code is shown, with the hand-over again, and e-mailed to nobody', async () => {
      await record.getByRole('button', { name: 'Link to record MRN100004 and issue code' }).click();
      await expect(staff).toHaveURL(/\/staff\/patients\/[^/?]+\/code$/);
      await expect(staff.getByRole('status')).toContainText('This code is shown only once.');
      await expect(staff.getByRole('status')).not.toContainText('e-mailed');
      await expect(staff.getByRole('main')).toContainText('Hand the code over in one of these ways instead:');
      await expect(staff.locator('.activation-code').first()).toHaveText(/^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      // The outbox sends at once when it has something; give it time to show it has nothing.
      await staff.waitForTimeout(2000);
      const sent = mailOf(ACCOUNTS).filter((m) => m.writtenAt >= started - 1000 && m.subject.includes('activation code'));
      expect(sent.filter((m) => m.to.toLowerCase().includes(asker.email)), 'nothing to the address in the request').toHaveLength(0);
      expect(sent.filter((m) => m.to.toLowerCase().includes('dora.martinez@example.org')), 'nor to the record\'s, unticked').toHaveLength(0);
    });
  });

  test('a code that does not match is refused without saying why', { tag: '@nojs' }, async ({ page }) => {
    await page.goto('/activate');
    await page.getByLabel('Activation code').fill('7KQ2M-X9DHT-4RW8B');
    await page.getByLabel('Date of birth').fill('1979-06-23');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page).toHaveURL('/activate?error=nomatch');
    await expect(page.getByRole('alert')).toHaveText(
      `That activation code and date of birth do not match our records, or the code no longer works. Check both and try again; if it still does not work, call us at ${PHONE} for a new code.`,
    );
    // Without a code that matched, the next step is closed.
    await page.goto('/activate/account');
    await expect(page.getByRole('alert')).toContainText('this step has timed out or was already completed');
    await expect(page.getByLabel('User ID')).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Enter my code' })).toHaveAttribute('href', '/activate');
  });
});
