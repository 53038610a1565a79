/**
 * Billing and paperless statements (SPEC R-BIL-1 … R-BIL-4), along the path patients are told
 * about: Billing Summary → View Account → Paperless Billing → Update. On the ACCOUNTS server,
 * whose new patients enrol from their own client address (see servers.ts); every run enrols a
 * new person, so runs and the two projects never share an account.
 */
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { test, expect } from './support/people';
import { heading, mainNav, signIn } from './support/portal';
import { ACCOUNTS } from './support/servers';
import { enrol, newPerson, type NewPerson } from './support/enrol';
import { waitForMail } from './support/mail';

test.use({ baseURL: ACCOUNTS.url });

/** Billing staff post a statement with one charge through the form. */
async function postStatement(staff: Page, { date, from, to, due, line, amountDue }: { date: string; from: string; to: string; due: string; line: { date: string; department: string; description: string; amount: string }; amountDue: string }) {
  await staff.getByRole('link', { name: 'Post a statement' }).click();
  await expect(heading(staff)).toHaveText('Post a statement');
  await staff.getByLabel('Statement date').fill(date);
  await staff.getByLabel('Period from').fill(from);
  await staff.getByLabel('Period to').fill(to);
  await staff.getByLabel('Due date').fill(due);
  await staff.getByLabel('Line 1 date').fill(line.date);
  await staff.getByLabel('Line 1 kind').selectOption('charge');
  await staff.getByLabel('Line 1 department').fill(line.department);
  await staff.getByLabel('Line 1 description').fill(line.description);
  await staff.getByLabel('Line 1 amount').fill(line.amount);
  await staff.getByLabel('Amount due on this statement').fill(amountDue);
  await staff.getByRole('button', { name: 'Post statement' }).click();
}

/** The staff member opens the person's account page from the search. */
async function openAccountOf(staff: Page, person: NewPerson) {
  await staff.goto('/staff/billing');
  await staff.getByLabel('Account number, MRN, birth date or name').fill(person.familyName);
  await staff.getByRole('button', { name: 'Find' }).click();
  const found = staff.getByRole('listitem').filter({ has: staff.getByRole('heading', { name: new RegExp(person.fullName) }) });
  await found.getByRole('link', { name: /^Account G\d{9}/ }).click();
  await expect(heading(staff)).toHaveText(/^Account G\d{9}$/);
}

test.describe('billing', () => {
  test('a new patient is on paperless billing, gets a statement by notice, downloads it, and goes back to paper', { tag: '@nojs' }, async ({ page, openPage }) => {
    test.setTimeout(120_000);
    const person = newPerson();
    await enrol(ACCOUNTS, person);
    const staff = await openPage();

    await test.step('billing staff open an account for the new patient: paperless, as the patient chose at sign-up', async () => {
      await signIn(staff, 'billing', { portal: 'staff' });
      await expect(staff).toHaveURL('/staff');
      await staff.getByRole('link', { name: 'Billing accounts' }).click();
      await staff.getByLabel('Account number, MRN, birth date or name').fill(person.familyName);
      await staff.getByRole('button', { name: 'Find' }).click();
      const found = staff.getByRole('listitem').filter({ has: staff.getByRole('heading', { name: new RegExp(person.fullName) }) });
      await expect(found).toContainText('No billing account.');
      await found.getByText('Open a billing account').click();
      await found.getByLabel('Mailing address for paper statements').fill('22 Quill Road\nRiverside, ST 00000');
      await found.getByRole('button', { name: 'Open account' }).click();
      await expect(staff.getByRole('status')).toHaveText('The account is open.');
      await expect(staff.getByRole('main')).toContainText('Paperless: in the portal');
    });

    const accountNumber = (await heading(staff).textContent())!.replace('Account ', '');

    await test.step('the patient sees the account on the Billing Summary, paperless', async () => {
      await signIn(page, person.userId, { password: person.password });
      await expect(page).toHaveURL('/home');
      await mainNav(page).getByRole('link', { name: 'Billing', exact: true }).click();
      await expect(heading(page)).toHaveText('Billing Summary');
      const account = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: `Account ${accountNumber}` }) });
      await expect(account).toContainText('Paperless: in the portal');
      await expect(account).toContainText('None yet');
    });

    const since = Date.now();
    await test.step('billing staff post a statement; a refused total is explained and the form kept', async () => {
      await postStatement(staff, {
        date: '2026-11-01', from: '2026-10-01', to: '2026-10-31', due: '2026-11-25',
        line: { date: '2026-10-14', department: 'Cardiology', description: 'Echocardiogram, complete', amount: '412.50' },
        amountDue: '400.00',
      });
      await expect(staff.getByRole('alert')).toHaveText('The lines add up to an amount due of $412.50, not $400.00: check the lines and the previous balance of $0.00.');
      await expect(staff.getByLabel('Line 1 description')).toHaveValue('Echocardiogram, complete');
      expect(staff.url()).not.toContain('Echocardiogram');
      await staff.getByLabel('Amount due on this statement').fill('412.50');
      await staff.getByRole('button', { name: 'Post statement' }).click();
      await expect(staff.getByRole('status')).toHaveText('The statement is posted. The patient is notified by e-mail (paperless billing).');
    });

    await test.step('the notice arrives, saying nothing of the amount or the visit', async () => {
      const mail = await waitForMail(ACCOUNTS, { to: person.email, subject: 'a new statement is ready', since });
      expect(mail.body).not.toContain('412');
      expect(mail.body).not.toContain('Echocardiogram');
      expect(mail.body).not.toContain(accountNumber);
    });

    await test.step('the patient downloads the statement PDF from View Account', async () => {
      await page.reload();
      const account = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: `Account ${accountNumber}` }) });
      await expect(account).toContainText('$412.50');
      await account.getByRole('link', { name: /View Account/ }).click();
      await expect(heading(page)).toHaveText(`Account ${accountNumber}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Statement of November 1, 2026 (PDF)' }).click()]);
      const file = await download.path();
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      expect(text).toContain(accountNumber);
      expect(text).toContain(person.fullName);
      expect(text).toContain('Echocardiogram, complete');
      expect(text).toContain('$412.50');
      expect(text).toContain('October 1, 2026');
    });

    await test.step('the patient cancels paperless billing: View Account → Paperless Billing → Update', async () => {
      const paperless = page.getByRole('region', { name: 'Paperless Billing' });
      await expect(paperless).toContainText('Paperless billing is on');
      await paperless.getByRole('link', { name: /Update/ }).click();
      await expect(heading(page)).toHaveText('Paperless Billing');
      await expect(page.getByRole('main')).toContainText('From the next statement on, your statements will be mailed to 22 Quill Road, Riverside, ST 00000.');
      await page.getByRole('button', { name: 'Cancel paperless billing' }).click();
      await expect(page.getByRole('status')).toHaveText('Paperless billing is off: your next statements will be mailed to you.');
      await expect(page.getByRole('region', { name: 'Paperless Billing' })).toContainText(/paperless → paper \(You, in the portal\)/);
    });

    await test.step('the next statement goes to the print queue instead of a notice', async () => {
      await openAccountOf(staff, person);
      await expect(staff.getByRole('main')).toContainText('Paper: mailed');
      await postStatement(staff, {
        date: '2026-12-01', from: '2026-11-01', to: '2026-11-30', due: '2026-12-26',
        line: { date: '2026-11-03', department: 'Cardiology', description: 'Follow-up visit', amount: '95.00' },
        amountDue: '507.50',
      });
      await expect(staff.getByRole('status')).toHaveText('The statement is posted and waits in the print queue (paper statements).');
      await staff.getByRole('link', { name: 'Print queue' }).click();
      await expect(heading(staff)).toHaveText('Print queue');
      const row = staff.getByRole('row').filter({ hasText: accountNumber });
      await expect(row).toContainText('22 Quill Road, Riverside, ST 00000');
      await expect(row).toContainText('$507.50');
    });
  });
});
