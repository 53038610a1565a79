/**
 * Maintenance windows (SPEC R-GEN-1), on the MAINTENANCE server (a window in progress would
 * turn every other test's patient pages into the maintenance page). An administrator schedules
 * a window on /staff/maintenance; ahead of it the public sign-in page and the patient's pages
 * carry a notice with the times, which the patient dismisses with a plain form; during a window
 * patients get the maintenance page (503) while staff sign in and work; ending the window
 * restores the portal. The two projects' runs take turns (`exclusively`), and each first ends
 * whatever windows an earlier run left.
 */
import type { Page } from '@playwright/test';
import { test, expect } from './support/people';
import { heading, signIn } from './support/portal';
import { MAINTENANCE } from './support/servers';
import { exclusively } from './support/lock';

test.use({ baseURL: MAINTENANCE.url });

const PATIENTS = { hydrated: 'alice', 'no-js': 'robert' } as const;

/** The clinic's (America/New_York) date and time `minutes` from now, as datetime-local takes it. */
function clinicTimeIn(minutes: number): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(Date.now() + minutes * 60_000))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** The administrator on the maintenance page, with no window to come or in progress left. */
async function adminOnMaintenance(admin: Page) {
  await signIn(admin, 'admin', { portal: 'staff' });
  await expect(admin).toHaveURL('/staff');
  await admin.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Maintenance' }).click();
  await expect(heading(admin)).toHaveText('Maintenance windows');
  const end = admin.getByRole('button', { name: /^(Cancel|End now): the window from/ });
  for (let left = await end.count(); left > 0; left--) {
    await end.first().click();
    await expect(admin.getByRole('status')).toHaveText('The maintenance window is cancelled.');
    await expect(end).toHaveCount(left - 1);
  }
}

/** Schedules a window through the form; returns its row in the table. */
async function schedule(admin: Page, fromMin: number, toMin: number, message: string) {
  await admin.getByLabel('Starts').fill(clinicTimeIn(fromMin));
  await admin.getByLabel('Ends').fill(clinicTimeIn(toMin));
  await admin.getByLabel('Message for patients').fill(message);
  await admin.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(admin.getByRole('status')).toContainText('The maintenance window is scheduled.');
  const row = admin.getByRole('row').filter({ hasText: message });
  await expect(row).toHaveCount(1);
  return row;
}

test.describe('maintenance windows', () => {
  test('patients are told of a window ahead, on the sign-in page and their own pages, and can dismiss the notice', { tag: '@nojs' }, async ({ page, openPage }) => {
    test.setTimeout(120_000);
    const patient = PATIENTS[test.info().project.name as keyof typeof PATIENTS];
    const message = `The portal moves to new servers (${test.info().project.name} ${Date.now().toString(36)}).`;
    await exclusively(`${MAINTENANCE.name}-${MAINTENANCE.port}`, async () => {
      const admin = await openPage();
      await adminOnMaintenance(admin);
      const row = await schedule(admin, 24 * 60, 26 * 60, message);
      await expect(row).toContainText('To come');
      const starts = (await row.getByRole('rowheader').textContent())!.trim();

      await test.step('the public sign-in page carries the notice, with the times in the clinic’s zone', async () => {
        await page.goto('/sign-in');
        const notice = page.getByRole('complementary', { name: 'Planned maintenance' });
        await expect(notice).toContainText(message);
        await expect(notice).toContainText(starts);
      });

      await test.step('so does every page of the signed-in patient, until dismissed in this browser', async () => {
        await signIn(page, patient);
        await expect(page).toHaveURL('/home');
        const notice = page.getByRole('complementary', { name: 'Planned maintenance' });
        await expect(notice).toContainText(message);
        await notice.getByRole('button', { name: 'Dismiss this notice' }).click();
        await expect(page).toHaveURL('/home');
        await expect(heading(page)).toBeVisible();
        await expect(page.getByRole('complementary', { name: 'Planned maintenance' })).toHaveCount(0);
        await page.goto('/messages');
        await expect(page.getByRole('complementary', { name: 'Planned maintenance' })).toHaveCount(0);
      });

      await test.step('the administrator cancels the window', async () => {
        await row.getByRole('button', { name: /^Cancel: the window from/ }).click();
        await expect(admin.getByRole('status')).toHaveText('The maintenance window is cancelled.');
        await expect(admin.getByRole('row').filter({ hasText: message })).toContainText('Cancelled');
      });
    });
  });

  test('during a window patients get the maintenance page while staff sign in and work; ending it restores the portal', { tag: '@nojs' }, async ({ page, openPage }) => {
    test.setTimeout(120_000);
    const patient = PATIENTS[test.info().project.name as keyof typeof PATIENTS];
    const message = `Upgrading the portal (${test.info().project.name} ${Date.now().toString(36)}).`;
    await exclusively(`${MAINTENANCE.name}-${MAINTENANCE.port}`, async () => {
      const admin = await openPage();
      await adminOnMaintenance(admin);
      await signIn(page, patient);
      await expect(page).toHaveURL('/home');

      const row = await schedule(admin, -5, 60, message);
      await expect(row).toContainText('In progress');

      await test.step('the patient’s pages and the sign-in page are the maintenance page: 503, Retry-After, nothing personal', async () => {
        for (const path of ['/home', '/sign-in']) {
          const response = await page.goto(path);
          expect(response?.status(), path).toBe(503);
          const retryAfter = Number(response?.headers()['retry-after']);
          expect(retryAfter, path).toBeGreaterThan(50 * 60);
          expect(retryAfter, path).toBeLessThanOrEqual(60 * 60);
          await expect(heading(page)).toHaveText('The patient portal is down for maintenance');
          await expect(page.getByRole('main')).toContainText(message);
          await expect(page.getByRole('main')).toContainText('call 911');
          await expect(page.locator('body')).not.toContainText(/Alice|Robert|Johnson|Smith/);
        }
      });

      await test.step('staff sign in and use their pages', async () => {
        const staff = await openPage();
        await signIn(staff, 'drlee', { portal: 'staff' });
        await expect(staff).toHaveURL('/staff');
        await staff.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Messages' }).click();
        await expect(staff).toHaveURL('/staff/messages');
      });

      await test.step('the administrator ends the window; the patient is back where they were', async () => {
        await admin.getByRole('row').filter({ hasText: message }).getByRole('button', { name: /^End now: the window from/ }).click();
        await expect(admin.getByRole('status')).toHaveText('The maintenance window is cancelled.');
        const response = await page.goto('/home');
        expect(response?.status()).toBe(200);
        await expect(page).toHaveURL('/home');
      });
    });
  });
});
