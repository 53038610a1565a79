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
