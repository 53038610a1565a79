/**
 * Secure messaging (SPEC R-MSG-1 … R-MSG-7), as patients and staff use it, on its own server
 * (MESSAGING): Dr. Lee goes out of office here.
 */
import { test, expect, uniqueLetters } from './support/people';
import { heading, mainNav, signIn } from './support/portal';
import { MESSAGING } from './support/servers';
import { waitForMail } from './support/mail';
import { sqlite } from './support/database';
import { exclusively } from './support/lock';

test.use({ baseURL: MESSAGING.url });

/** A small real PNG (1×1 pixel). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const ORG_PHONE = '(555) 010-0100';

test.describe('a patient writes to the care team', () => {
  test('reads and sends messages, with an attachment, with or without JavaScript', { tag: '@nojs' }, async ({ page }) => {
    // Robert's draft is his alone: the two projects' runs of this test take turns.
    await exclusively(`${MESSAGING.name}-robert`, async () => {
      const subject = `Refill question ${uniqueLetters()}`;

      await test.step('Robert opens Messages and sees what the portal is for', async () => {
        await signIn(page, 'robert');
        await expect(page).toHaveURL('/home');
        await mainNav(page).getByRole('link', { name: 'Messages', exact: true }).click();
        await expect(heading(page)).toHaveText('Messages');
        await expect(page.getByRole('complementary', { name: 'Emergencies' })).toContainText('call 911 or go to the nearest emergency room');
        await expect(page.getByRole('main')).toContainText(`Replies usually come within 3 business days. If you have not heard back by then, call the office at ${ORG_PHONE}.`);
      });

      await test.step('a message needs the acknowledgement; what was typed is kept', async () => {
        await page.getByRole('link', { name: /Write a message|Continue your draft/ }).click();
        await expect(page).toHaveURL('/messages/new');
        await expect(heading(page)).toHaveText('Write a message');
        await page.getByLabel('To', { exact: true }).selectOption({ label: 'Nurse line' });
        await page.getByLabel('What is it about?').selectOption({ label: 'Medications and refills' });
        await page.getByLabel('Subject', { exact: true }).fill(subject);
        await page.getByLabel('Message', { exact: true }).fill('I am running low on my blood pressure tablets.\nCould the prescription be renewed?');
        await page.getByLabel('Attach photos or documents (optional)').setInputFiles({ name: 'label.png', mimeType: 'image/png', buffer: PNG });
        // The browser itself asks for the box to be ticked; "Save draft" skips that check.
        await page.getByRole('button', { name: 'Save draft' }).click();
        await expect(page.getByRole('status')).toHaveText('Your draft is saved, without the files: files are added when you send the message.');
        await expect(page.getByLabel('Subject', { exact: true })).toHaveValue(subject);
        await expect(page.getByLabel('To', { exact: true })).toHaveValue(/^pool:/);
      });

      await test.step('the message is sent with its attachment and shows when a reply is due', async () => {
        await page.getByLabel('Attach photos or documents (optional)').setInputFiles({ name: 'label.png', mimeType: 'image/png', buffer: PNG });
        await page.getByLabel(/This message is about my own health/).check();
        await page.getByRole('button', { name: 'Send message' }).click();
        await expect(page).toHaveURL(/\/messages\/[0-9a-f]{32}\?sent=1$/);
        await expect(page.getByRole('status')).toHaveText('Your message has been sent.');
        await expect(heading(page)).toHaveText(subject);
        const mine = page.getByRole('article', { name: /^You wrote to Nurse line/ });
        await expect(mine).toContainText('Could the prescription be renewed?');
        await expect(mine.getByRole('link', { name: 'label.png' })).toBeVisible();
        await expect(mine).toContainText(/Reply expected by \w{3} \w{3} \d{1,2}, \d{4}, 5:00 PM/);
      });

      await test.step('the conversation is listed; the draft is gone', async () => {
        await mainNav(page).getByRole('link', { name: 'Messages', exact: true }).click();
        await expect(page.getByRole('link', { name: subject })).toBeVisible();
        await expect(page.getByRole('link', { name: 'Write a message' })).toBeVisible();
      });
    });
  });

  test('a file that is not a picture or a PDF is refused, whatever its name', async ({ page }) => {
    await signIn(page, 'carol');
    await expect(page).toHaveURL('/home');
    await page.goto('/messages/new');
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Dr. Morgan Lee' });
    await page.getByLabel('What is it about?').selectOption({ label: 'Something else' });
    await page.getByLabel('Subject', { exact: true }).fill('Photo of the rash');
    await page.getByLabel('Message', { exact: true }).fill('Here is the photo.');
    await page
      .getByLabel('Attach photos or documents (optional)')
      .setInputFiles({ name: 'rash.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('MZ\x90\x00 this is a program') });
    await page.getByLabel(/This message is about my own health/).check();
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect(page).toHaveURL('/messages/new?error=file-type');
    await expect(page.getByRole('alert')).toContainText('One of the files is not a picture or a PDF document.');
    await expect(page.getByRole('alert')).toContainText('Your message has not been sent');
    // What she wrote is still there.
    await expect(page.getByLabel('Subject', { exact: true })).toHaveValue('Photo of the rash');
    await expect(page.getByLabel('Message', { exact: true })).toHaveValue('Here is the photo.');
    await page.getByRole('button', { name: 'Discard draft' }).click();
    await expect(page).toHaveURL('/messages?draft=discarded');
  });
});

/** Milliseconds since the epoch, in SQLite. */
const NOW_MS = "CAST(strftime('%s','now') AS INTEGER) * 1000";

/** A `datetime-local` value in the clinic's time zone (America/New_York), `offsetMs` from now. */
function clinicTime(offsetMs: number): string {
  return new Date(Date.now() + offsetMs).toLocaleString('sv-SE', { timeZone: 'America/New_York' }).replace(' ', 'T').slice(0, 16);
}

test.describe('the care team answers', () => {
  test('a message to a provider who is out goes to the one covering, who answers; the patient is told and reads it; the nurse sees it read', async ({
    page,
    openPage,
  }) => {
    // Four people in four browsers, each signing in (argon2) and each page checked by axe.
    test.setTimeout(150_000);
    await exclusively(`${MESSAGING.name}-drlee-out`, async () => {
      const subject = `Knee pain ${uniqueLetters()}`;
      const nurse = await openPage();

      await test.step('Dr. Lee puts himself out of office this week, Kim Alvarez covering', async () => {
        // Periods left by an earlier run against a reused server.
        sqlite(MESSAGING, `UPDATE absences SET cancelled_at = ${NOW_MS} WHERE cancelled_at IS NULL`);
        const doctor = await openPage();
        await signIn(doctor, 'drlee', { portal: 'staff' });
        await expect(doctor).toHaveURL('/staff');
        await doctor.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Out of office' }).click();
        await expect(heading(doctor)).toHaveText('Out of office');
        await doctor.getByLabel(/^From \(date and time/).fill(clinicTime(-3600_000));
        await doctor.getByLabel(/^Until \(date and time/).fill(clinicTime(7 * 86400_000));
        await doctor.getByLabel('Covered by').selectOption({ label: 'Kim Alvarez, RN' });
        await doctor.getByLabel('Note for staff (optional)').fill('Conference');
        await doctor.getByRole('button', { name: 'Schedule' }).click();
        await expect(doctor.getByRole('status')).toHaveText('The out-of-office period is scheduled. Messages to the provider go to the cover meanwhile.');
        const period = doctor.getByRole('table', { name: 'Out-of-office periods, soonest first' }).getByRole('row').filter({ hasText: 'Conference' });
        await expect(period).toContainText('Kim Alvarez, RN');
        await expect(period).toContainText('Now');
      });

      const since = Date.now();
      let thread = '';
      await test.step('Alice writes to Dr. Lee, with a photo', async () => {
        await signIn(page, 'alice');
        await expect(page).toHaveURL('/home');
        await page.goto('/messages/new');
        await page.getByLabel('To', { exact: true }).selectOption({ label: 'Dr. Morgan Lee' });
        await page.getByLabel('What is it about?').selectOption({ label: 'A question about my care' });
        await page.getByLabel('Subject', { exact: true }).fill(subject);
        await page.getByLabel('Message', { exact: true }).fill('My right knee is swollen after my walk. Should I rest it?');
        await page.getByLabel('Attach photos or documents (optional)').setInputFiles({ name: 'knee.png', mimeType: 'image/png', buffer: PNG });
        await page.getByLabel(/This message is about my own health/).check();
        await page.getByRole('button', { name: 'Send message' }).click();
        await expect(page.getByRole('status')).toHaveText('Your message has been sent.');
        thread = new URL(page.url()).pathname.split('/').pop() ?? '';
      });

      await test.step('billing staff (the Billing questions pool is on her care team) do not see her message to Dr. Lee', async () => {
        const billing = await openPage();
        await signIn(billing, 'billing', { portal: 'staff' });
        await expect(billing).toHaveURL('/staff');
        await billing.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Messages' }).click();
        await expect(heading(billing)).toHaveText('Messages');
        await expect(billing.getByRole('main')).not.toContainText(subject);
        // Not by its address either: the conversation is not found, and nothing of it shows.
        await billing.goto(`/staff/messages/${thread}`);
        await expect(billing.getByRole('alert')).toHaveText('Not found.');
        await expect(billing.getByRole('main')).not.toContainText(subject);
        await expect(billing.getByRole('main')).not.toContainText('swollen');
      });

      await test.step('the nurse finds it in her inbox, routed, and sees why', async () => {
        await signIn(nurse, 'nursekim', { portal: 'staff' });
        await expect(nurse).toHaveURL('/staff');
        await nurse.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Messages' }).click();
        await expect(heading(nurse)).toHaveText('Messages');
        const row = nurse.getByRole('row').filter({ hasText: subject });
        await expect(row).toContainText('Alice Johnson');
        await expect(row).toContainText('Routed');
        await expect(row).toContainText('Kim Alvarez, RN');
        await row.getByRole('link', { name: subject }).click();
        await expect(heading(nurse)).toHaveText(subject);
        const message = nurse.getByRole('article', { name: /^Alice Johnson wrote to Dr\. Morgan Lee/ });
        await expect(message.getByRole('list', { name: 'Routing' })).toContainText(
          /Dr\. Morgan Lee → Kim Alvarez, RN\. Dr\. Morgan Lee is out of office until \w+ \d{1,2}, \d{4}; covered by Kim Alvarez, RN\./,
        );
        await expect(message.getByRole('link', { name: 'knee.png' })).toBeVisible();
        await expect(message).toContainText('Waiting for Kim Alvarez, RN; due');
      });

      await test.step('she replies', async () => {
        await nurse.getByLabel('Reply', { exact: true }).fill('Please rest it and use ice for 20 minutes. Call us if it gets worse.');
        await nurse.getByRole('button', { name: 'Send reply' }).click();
        await expect(nurse.getByRole('status')).toHaveText('Your reply has been sent. The patient is told by e-mail that a message is waiting.');
        await expect(nurse.getByRole('article', { name: /^Kim Alvarez, RN wrote/ })).toContainText('Not yet read by the patient');
      });

      await test.step('Alice is e-mailed that a message is waiting, and nothing more', async () => {
        const mail = await waitForMail(MESSAGING, { to: 'alice.johnson@example.org', subject: 'new message in the portal', since });
        expect(mail.body).toContain('You have a new message in the portal. Sign in to read it:');
        for (const secret of [subject, 'knee', 'Knee', 'rest it', 'Kim', 'Alvarez', 'Dr.']) {
          expect(mail.body, `the e-mail must not say "${secret}"`).not.toContain(secret);
          expect(mail.subject).not.toContain(secret);
        }
        expect(mail.to).not.toContain(',');
      });

      await test.step('Alice sees it unread, reads it, and it is read', async () => {
        await page.goto('/home');
        await expect(page.getByRole('main')).toContainText(/\d+ unread messages?/);
        await mainNav(page).getByRole('link', { name: 'Messages', exact: true }).click();
        const item = page.getByRole('listitem').filter({ hasText: subject });
        await expect(item).toContainText('1 unread');
        await item.getByRole('link', { name: subject }).click();
        await expect(page.getByRole('article', { name: /^Kim Alvarez, RN wrote/ })).toContainText('Please rest it and use ice');
        await expect(page.getByRole('article', { name: /^You wrote to Dr\. Morgan Lee/ })).toContainText('Answered');
        await mainNav(page).getByRole('link', { name: 'Messages', exact: true }).click();
        await expect(page.getByRole('listitem').filter({ hasText: subject })).not.toContainText('unread');
      });

      await test.step('the nurse sees that Alice has read it', async () => {
        await nurse.reload();
        await expect(nurse.getByRole('article', { name: /^Kim Alvarez, RN wrote/ })).toContainText(/Read by the patient \w{3} \w{3} \d{1,2}, \d{4}/);
      });

      sqlite(MESSAGING, `UPDATE absences SET cancelled_at = ${NOW_MS} WHERE cancelled_at IS NULL`);
    });
  });

  test('a message past its due date without a reply tells the patient to call, and is flagged for staff', async ({ page, openPage }) => {
    const subject = `Test question ${uniqueLetters()}`;
    await signIn(page, 'carol');
    await expect(page).toHaveURL('/home');
    await page.goto('/messages/new');
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Nurse line' });
    await page.getByLabel('What is it about?').selectOption({ label: 'Test results' });
    await page.getByLabel('Subject', { exact: true }).fill(subject);
    await page.getByLabel('Message', { exact: true }).fill('Are my blood test results in?');
    await page.getByLabel(/This message is about my own health/).check();
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect(page.getByRole('status')).toHaveText('Your message has been sent.');
    await expect(page.getByRole('alert')).toHaveCount(0);

    // Four business days go by without an answer.
    sqlite(MESSAGING, `UPDATE messages SET due_at = ${NOW_MS} - 60000 WHERE thread_id = (SELECT id FROM threads WHERE subject = '${subject}')`);
    await page.reload();
    await expect(page.getByRole('alert')).toHaveText(
      `We have not answered your message within 3 business days. We are sorry. Please call the office at ${ORG_PHONE}.`,
    );
    await mainNav(page).getByRole('link', { name: 'Messages', exact: true }).click();
    await expect(page.getByRole('listitem').filter({ hasText: subject })).toContainText('No reply yet: please call');

    const nurse = await openPage();
    await signIn(nurse, 'nursekim', { portal: 'staff' });
    await expect(nurse).toHaveURL('/staff');
    await nurse.goto('/staff/messages?show=overdue');
    await expect(nurse.getByRole('link', { name: 'Overdue' })).toHaveAttribute('aria-current', 'page');
    await expect(nurse.getByRole('row').filter({ hasText: subject })).toContainText('Overdue');
  });
});

test.describe('setting up messaging', () => {
  test('an administrator sees the pools and a patient’s care team, and keeps the holiday list', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'admin', { portal: 'staff' });
    await expect(page).toHaveURL('/staff');
    const staffNav = page.getByRole('navigation', { name: 'Staff' });

    await staffNav.getByRole('link', { name: 'Pools' }).click();
    await expect(heading(page)).toHaveText('Pools');
    const nurseLine = page.getByRole('region', { name: 'Nurse line' });
    await expect(nurseLine).toContainText('Kim Alvarez, RN');
    await expect(nurseLine.getByRole('button', { name: 'Remove Kim Alvarez, RN from Nurse line' })).toBeVisible();
    // Which pools do clinical work decides who reads a patient's clinical conversations.
    await expect(nurseLine).toContainText('Clinical pool');
    await expect(nurseLine.getByRole('button', { name: 'Make Nurse line non-clinical' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Billing questions' })).toContainText('Non-clinical pool');

    await staffNav.getByRole('link', { name: 'Care teams' }).click();
    await expect(heading(page)).toHaveText('Care teams');
    await page.getByRole('searchbox', { name: 'Find a patient by name or record number' }).fill('Johnson');
    await page.getByRole('button', { name: 'Search' }).click();
    // The search is posted: the name is not in the address; the form keeps it.
    await expect(page.getByRole('status')).toHaveText('1 patient matches.');
    await expect(page).toHaveURL('/staff/care-teams');
    await expect(page.getByRole('searchbox', { name: 'Find a patient by name or record number' })).toHaveValue('Johnson');
    await page.getByRole('list', { name: 'Matching patients' }).getByRole('link', { name: 'Alice Johnson' }).click();
    const team = page.getByRole('region', { name: 'Care team of Alice Johnson' });
    await expect(team).toContainText('Dr. Morgan Lee');
    await expect(team).toContainText('Nurse line');

    await staffNav.getByRole('link', { name: 'Holidays' }).click();
    await expect(heading(page)).toHaveText('Holidays');
    // A day of each project's own (the two projects may run this at the same time).
    const year = test.info().project.name === 'no-js' ? 2032 : 2031;
    const day = `${year}-0${1 + Math.floor(Math.random() * 9)}-${10 + Math.floor(Math.random() * 18)}`;
    sqlite(MESSAGING, `DELETE FROM holidays WHERE day = '${day}'`);
    await page.getByLabel('Date').fill(day);
    await page.getByLabel('Name').fill('Founders’ Day');
    await page.getByRole('button', { name: 'Add holiday' }).click();
    await expect(page.getByRole('status')).toHaveText('The holiday is added.');
    const row = page.getByRole('table', { name: 'Days the organisation is closed' }).getByRole('row').filter({ hasText: day });
    await expect(row).toContainText('Founders’ Day');
    await row.getByRole('button', { name: `Remove Founders’ Day (${day})` }).click();
    await expect(page.getByRole('status')).toHaveText('The holiday is removed.');
  });
});
