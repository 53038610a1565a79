/**
 * Questionnaires, visit surveys and lessons (SPEC R-QST-1 … R-QST-4), on the QUESTIONNAIRES
 * server (see servers.ts): a clinician imports a FHIR Questionnaire with a conditional item and
 * assigns it; the patient is notified, fills it (a validation error fixed on the way), saves a
 * draft, comes back and submits; the clinician reads the answers and exports the
 * QuestionnaireResponse; the patient stops visit surveys and a survey can then not be assigned.
 * A simple survey is filled with JavaScript on and off. Every page is checked by axe (the guard).
 */
import fs from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect } from './support/people';
import { heading, mainNav, signIn } from './support/portal';
import { QUESTIONNAIRES } from './support/servers';
import { waitForMail } from './support/mail';

test.use({ baseURL: QUESTIONNAIRES.url });

function sleepCheck(title: string): string {
  return JSON.stringify({
    resourceType: 'Questionnaire',
    title,
    status: 'active',
    item: [
      {
        linkId: 'hours', type: 'integer', text: 'How many hours do you sleep a night?', required: true,
        extension: [
          { url: 'http://hl7.org/fhir/StructureDefinition/minValue', valueInteger: 0 },
          { url: 'http://hl7.org/fhir/StructureDefinition/maxValue', valueInteger: 24 },
        ],
      },
      { linkId: 'snore', type: 'boolean', text: 'Do you snore?' },
      {
        linkId: 'who', type: 'string', text: 'Who noticed the snoring?', enableWhen: [{ question: 'snore', operator: '=', answerBoolean: true }],
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/minLength', valueInteger: 3 }],
      },
    ],
  }, null, 2);
}

/** A member of staff opens a patient's questionnaire page from the search. */
async function openPatient(staff: Page, name: string) {
  await staff.goto('/staff/questionnaires');
  await staff.getByLabel('MRN, birth date or name').fill(name);
  await staff.getByRole('button', { name: 'Find patient' }).click();
  await staff.getByRole('link', { name: new RegExp(name) }).click();
  await expect(heading(staff)).toHaveText(`Questionnaires: ${name}`);
}

test.describe('questionnaires', () => {
  test('a clinician imports and assigns a form; the patient drafts, returns and submits; the clinician exports the answers; surveys stopped', async ({ page, openPage }) => {
    test.setTimeout(150_000);
    const title = `Sleep check ${Date.now()}`;
    const staff = await openPage();

    await test.step('the clinician imports a Questionnaire with a conditional item', async () => {
      await signIn(staff, 'drlee', { portal: 'staff' });
      await expect(staff).toHaveURL('/staff');
      await staff.getByRole('link', { name: 'Questionnaires' }).click();
      await expect(heading(staff)).toHaveText('Questionnaires');
      await staff.getByLabel('Kind').selectOption('questionnaire');
      await staff.getByLabel('Questionnaire JSON').fill('{"resourceType":"Questionnaire","title":"x","item":[{"linkId":"a","type":"attachment","text":"A"}]}');
      await staff.getByRole('button', { name: 'Import and publish' }).click();
      await expect(staff.getByRole('alert')).toContainText('Item "a": type "attachment" is not supported.');
      await staff.getByLabel('Questionnaire JSON').fill(sleepCheck(title));
      await staff.getByRole('button', { name: 'Import and publish' }).click();
      await expect(staff.getByRole('status')).toHaveText('Imported and published as version 1.');
      await expect(staff.getByRole('row', { name: new RegExp(title) })).toContainText('Clinical questionnaire');
    });

    const since = Date.now();
    await test.step('and assigns it to Alice with a note', async () => {
      await openPatient(staff, 'Alice Johnson');
      await staff.getByLabel('Form', { exact: true }).selectOption({ label: `${title} (Clinical questionnaire, version 1)` });
      await staff.getByLabel('Note to the patient (optional)').fill('Please fill this in before Tuesday.');
      await staff.getByRole('button', { name: 'Assign' }).click();
      await expect(staff.getByRole('status')).toContainText('Assigned.');
      await expect(staff.getByRole('row', { name: new RegExp(title) })).toContainText('Waiting');
    });

    await test.step('Alice is told, without a word about the form', async () => {
      const mail = await waitForMail(QUESTIONNAIRES, { to: 'alice.johnson@example.org', subject: 'something new is waiting', since });
      expect(mail.body).not.toContain('Sleep');
      expect(mail.body).not.toContain('snor');
    });

    await test.step('Alice fills it in: the conditional item appears, a range error is shown and fixed', async () => {
      await signIn(page, 'alice');
      await expect(page).toHaveURL('/home');
      await expect(page.getByRole('main')).toContainText(/\d+ questionnaires? or lessons? to complete/);
      await mainNav(page).getByRole('link', { name: 'My Medical Record' }).click();
      await page.getByRole('link', { name: 'Questionnaires' }).click();
      await expect(heading(page)).toHaveText('Questionnaires');
      const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title }) });
      await expect(item).toContainText('Please fill this in before Tuesday.');
      await item.getByRole('link', { name: /^Start/ }).click();
      await expect(heading(page)).toHaveText(title);
      const who = page.getByLabel('Who noticed the snoring?');
      await expect(who).toBeHidden();
      await page.getByRole('group', { name: 'Do you snore?' }).getByLabel('Yes').check();
      await expect(who).toBeVisible();
      const hours = page.getByLabel(/How many hours do you sleep a night\?/);
      await hours.fill('30');
      await hours.blur();
      await expect(page.locator('#q0-error')).toHaveText('Enter 24 or less.');
      await page.getByRole('button', { name: 'Submit answers' }).click();
      await expect(page.getByRole('alert')).toContainText('There is a problem with 1 answer');
      await expect(page.getByRole('alert')).toContainText('Enter 24 or less.');
      await expect(hours).toHaveAttribute('aria-invalid', 'true');
      // The checks as she goes are the server's own rules (the AnswerChecks island): a message
      // when she leaves a field, gone as soon as the answer is right.
      await hours.fill('8');
      await expect(page.locator('#q0-error')).toBeEmpty();
      await expect(hours).not.toHaveAttribute('aria-invalid');
      await who.fill('Me');
      await who.blur();
      await expect(page.locator('#q2-error')).toHaveText('Write at least 3 characters.');
      await expect(who).toHaveAttribute('aria-invalid', 'true');
      await expect(who).toHaveAttribute('aria-describedby', 'q2-error');
      await who.fill('My partner');
      await expect(page.locator('#q2-error')).toBeEmpty();
      await expect(who).not.toHaveAttribute('aria-invalid');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await expect(page.getByRole('status')).toContainText('Draft saved');
    });

    await test.step('she leaves, comes back to the draft and submits', async () => {
      await mainNav(page).getByRole('link', { name: 'Home' }).click();
      await expect(heading(page)).toHaveText(/^Welcome/);
      await page.goto('/record/questionnaires');
      const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title }) });
      await item.getByRole('link', { name: /^Continue/ }).click();
      await expect(page.getByLabel(/How many hours/)).toHaveValue('8');
      await expect(page.getByLabel('Who noticed the snoring?')).toHaveValue('My partner');
      await page.getByRole('button', { name: 'Submit answers' }).click();
      await expect(page.getByRole('status')).toHaveText('Thank you: your answers were sent to your care team.');
      const done = page.getByRole('region', { name: 'Done' });
      await expect(done).toContainText(title);
      await done.getByRole('listitem').filter({ hasText: title }).getByRole('link', { name: /^View/ }).click();
      await expect(page.getByRole('main')).toContainText('Your answers can no longer be changed.');
      await expect(page.getByRole('button', { name: 'Submit answers' })).toHaveCount(0);
    });

    await test.step('the clinician reads the answers and exports the QuestionnaireResponse', async () => {
      await staff.goto('/staff/questionnaires');
      await staff.getByRole('link', { name: `1 submitted for ${title}` }).click();
      await expect(heading(staff)).toHaveText(`Answers: ${title}`);
      await staff.getByRole('link', { name: /Alice Johnson/ }).click();
      await expect(heading(staff)).toHaveText(title);
      await expect(staff.getByRole('main')).toContainText('My partner');
      await expect(staff.getByRole('main')).toContainText('Form version');
      const download = staff.waitForEvent('download');
      await staff.getByRole('link', { name: 'Export as FHIR QuestionnaireResponse (JSON)' }).click();
      const file = await (await download).path();
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(json.resourceType).toBe('QuestionnaireResponse');
      expect(json.status).toBe('completed');
      expect(json.item.map((i: { linkId: string }) => i.linkId)).toEqual(['hours', 'snore', 'who']);
      expect(json.item[0].answer[0].valueInteger).toBe(8);
    });

    await test.step('Alice stops visit surveys; the clinician can then not assign one', async () => {
      await page.goto('/record/questionnaires');
      await page.getByLabel('No, do not send me visit surveys').check();
      await page.getByRole('button', { name: 'Save survey preference' }).click();
      await expect(page.getByRole('status')).toContainText('You will not receive visit surveys.');
      await openPatient(staff, 'Alice Johnson');
      await expect(staff.getByRole('main')).toContainText('This patient has chosen not to receive visit surveys');
      const survey = staff.getByRole('option', { name: /Your recent visit/ });
      await expect(survey).toBeDisabled();
      await expect(survey).toContainText('patient opted out of surveys');
    });
  });

  test('a visit survey works with and without JavaScript', { tag: '@nojs' }, async ({ page, openPage, javaScriptEnabled }) => {
    test.setTimeout(120_000);
    const note = `After your visit ${Date.now()} ${javaScriptEnabled ? 'js' : 'nojs'}`;
    const staff = await openPage();
    await test.step('the front desk assigns the visit survey to Robert', async () => {
      await signIn(staff, 'frontdesk', { portal: 'staff' });
      await expect(staff).toHaveURL('/staff');
      await openPatient(staff, 'Robert Smith');
      await staff.getByLabel('Form', { exact: true }).selectOption({ label: 'Your recent visit (Visit survey, version 1)' });
      await staff.getByLabel('Note to the patient (optional)').fill(note);
      await staff.getByRole('button', { name: 'Assign' }).click();
      await expect(staff.getByRole('status')).toContainText('Assigned.');
    });
    await test.step('Robert answers it; the comment appears after he says he waited', async () => {
      await signIn(page, 'robert');
      await expect(page).toHaveURL('/home');
      await page.goto('/record/questionnaires');
      const item = page.getByRole('listitem').filter({ hasText: note });
      await item.getByRole('link', { name: /^Start/ }).click();
      await expect(heading(page)).toHaveText('Your recent visit');
      await page.getByLabel(/How would you rate your visit overall/).fill('8');
      await page.getByRole('group', { name: /Did you wait more than 15 minutes/ }).getByLabel('Yes').check();
      if (!javaScriptEnabled) {
        await expect(page.getByLabel('What would have made the wait easier?')).toBeHidden();
        await page.getByRole('button', { name: 'Save draft' }).click();
        await expect(page.getByRole('status')).toContainText('Draft saved');
      }
      await page.getByLabel('What would have made the wait easier?').fill('A text message when the doctor is ready');
      await page.getByLabel('How to take any new medicine').check();
      await page.getByRole('button', { name: 'Submit answers' }).click();
      await expect(page.getByRole('status')).toHaveText('Thank you: your answers were sent to your care team.');
      await expect(page.getByRole('region', { name: 'Done' })).toContainText('Your recent visit');
    });
  });

  test('a lesson is read, its check answered, and the result kept', { tag: '@nojs' }, async ({ page, openPage, javaScriptEnabled }) => {
    test.setTimeout(120_000);
    const note = `Lesson ${Date.now()} ${javaScriptEnabled ? 'js' : 'nojs'}`;
    const staff = await openPage();
    await signIn(staff, 'nursekim', { portal: 'staff' });
    await expect(staff).toHaveURL('/staff');
    await openPatient(staff, 'Carol Nguyen');
    await staff.getByLabel('Form', { exact: true }).selectOption({ label: 'Using the patient portal safely (Education lesson, version 1)' });
    await staff.getByLabel('Note to the patient (optional)').fill(note);
    await staff.getByRole('button', { name: 'Assign' }).click();
    await expect(staff.getByRole('status')).toContainText('Assigned.');

    await signIn(page, 'carol');
    await expect(page).toHaveURL(/\/home|\/account/);
    await page.goto('/record/questionnaires');
    await page.getByRole('listitem').filter({ hasText: note }).getByRole('link', { name: /^Read/ }).click();
    await expect(heading(page)).toHaveText('Using the patient portal safely');
    await expect(page.getByRole('main')).toContainText('Use a password you use nowhere else');
    await page.getByLabel('Ignore it and sign in to the portal the usual way').check();
    await page.getByLabel('Sign out and close the browser').check();
    await page.getByRole('button', { name: 'Complete lesson' }).click();
    await expect(page.getByRole('status')).toHaveText('Thank you: your answers were sent to your care team.');
    const done = page.getByRole('region', { name: 'Done' }).getByRole('listitem').filter({ hasText: note });
    await expect(done).toContainText('2 of 2 check answers right');
    await done.getByRole('link', { name: /^View/ }).click();
    await expect(page.getByRole('main')).toContainText('Use a password you use nowhere else');
  });
});
