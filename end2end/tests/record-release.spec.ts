/**
 * The two release rules of My Medical Record as people meet them (SPEC R-REC-3, R-REC-4):
 * an administrator keeps a list of codes of results given in person, and a patient chooses when
 * new results show. The integration tests (server/tests/api/record_release.rs) check what each
 * rule withholds; here the forms are used as a person uses them, with JavaScript on and off
 * (@nojs), and every page goes through axe (the guard fixture).
 */
import { test, expect } from './support/fixtures';
import { exclusively } from './support/lock';
import { uniqueLetters } from './support/people';
import { heading, mainNav, signIn } from './support/portal';
import { MAIN } from './support/servers';

test.describe('results given in person', () => {
  test('an administrator adds a code, is told when it is listed already, and removes it', { tag: '@nojs' }, async ({ page }) => {
    // A code of this run only: the other project's run of this test, and every patient's
    // record, are untouched by it.
    const code = `e2e-${uniqueLetters()}`;
    const label = `Test given in person ${code}`;
    await signIn(page, 'admin', { portal: 'staff' });
    await expect(page).toHaveURL('/staff');
    await page.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Results given in person' }).click();
    await expect(page).toHaveURL('/staff/record/hidden-codes');
    await expect(heading(page)).toHaveText('Results given in person');

    await test.step('adding a code lists it', async () => {
      await page.getByLabel('Code system').fill('http://loinc.org');
      await page.getByLabel('Code', { exact: true }).fill(code);
      await page.getByLabel('Label').fill(label);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(page.getByRole('status')).toHaveText('The code is added: results with it are no longer shown in the portal.');
      const row = page.getByRole('table', { name: 'Codes of results given in person' }).getByRole('row').filter({ hasText: label });
      await expect(row).toContainText('http://loinc.org');
      await expect(row).toContainText('Alex Rivera');
    });

    await test.step('the same code twice is refused, saying why', async () => {
      await page.getByLabel('Code system').fill('http://loinc.org');
      await page.getByLabel('Code', { exact: true }).fill(code);
      await page.getByLabel('Label').fill('Another label');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(page.getByRole('alert')).toHaveText('That code is on the list already.');
      await expect(page.getByRole('row').filter({ hasText: code })).toHaveCount(1);
    });

    await test.step('removing it takes it off the list', async () => {
      await page.getByRole('button', { name: `Remove ${label} (${code})` }).click();
      await expect(page.getByRole('status')).toHaveText('The code is removed: results with it show in the portal again.');
      await expect(page.getByRole('row').filter({ hasText: code })).toHaveCount(0);
    });
  });

  test('a clinician is neither offered the list nor let in', async ({ page }) => {
    await signIn(page, 'drlee', { portal: 'staff' });
    await expect(page).toHaveURL('/staff');
    await expect(page.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Results given in person' })).toHaveCount(0);
    const response = await page.goto('/staff/record/hidden-codes');
    expect(response?.status()).toBe(403);
  });
});

test.describe('when new results show', () => {
  test('Robert chooses to see new results after review; his reviewed results still show; he goes back to the default', { tag: '@nojs' }, async ({ page }) => {
    // Both projects' runs change Robert's one choice: one at a time.
    await exclusively(`${MAIN.name}-robert-release`, async () => {
      await signIn(page, 'robert');
      await expect(page).toHaveURL('/home');
      await mainNav(page).getByRole('link', { name: 'My Medical Record' }).click();
      await expect(heading(page)).toHaveText('My Medical Record');
      const section = page.getByRole('region', { name: 'When new test results show' });
      const group = section.getByRole('group', { name: 'Show me new test results:' });
      await expect(group.getByLabel('As soon as they are available (the default)')).toBeChecked();

      await test.step('the choice is saved and shown', async () => {
        await group.getByLabel('After my clinician has reviewed them').check();
        await section.getByRole('button', { name: 'Save my choice' }).click();
        await expect(page).toHaveURL(/\/record\?done=release/);
        await expect(section.getByRole('status')).toHaveText('Your choice is saved.');
        await expect(group.getByLabel('After my clinician has reviewed them')).toBeChecked();
      });

      await test.step('results his clinician reviewed still show, and nothing is said to wait', async () => {
        await page.getByRole('link', { name: 'Test Results' }).click();
        await expect(heading(page)).toHaveText('Test Results');
        await expect(page.getByRole('heading', { name: /^Hemoglobin A1c/ }).first()).toBeVisible();
        await expect(page.getByText(/waiting because you chose/)).toHaveCount(0);
      });

      await test.step('back to the default', async () => {
        await page.goto('/record');
        await group.getByLabel('As soon as they are available (the default)').check();
        await section.getByRole('button', { name: 'Save my choice' }).click();
        await expect(section.getByRole('status')).toHaveText('Your choice is saved.');
        await expect(group.getByLabel('As soon as they are available (the default)')).toBeChecked();
      });
    });
  });
});
