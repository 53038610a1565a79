/**
 * Video visits (SPEC R-GEN-5), on the VISITS server: front desk schedules a visit a few
 * minutes ahead; the patient finds it under Video visits, and Begin visit shows the
 * limitations and asks for the acknowledgement; only then the leaving page names the video
 * service's host, with Continue linking to the join link (never followed: no internet, and the
 * guard fails a test whose browser asks another origin for anything) and Back returning to the
 * visit. Each project uses its own patient (hydrated: Alice, no-js: Robert), and staff first
 * cancel what earlier runs left, so that the patient's list holds exactly this run's visit.
 */
import type { Page } from '@playwright/test';
import { test, expect } from './support/people';
import { heading, mainNav, signIn } from './support/portal';
import { VISITS } from './support/servers';

test.use({ baseURL: VISITS.url });

const PATIENTS = {
  hydrated: { login: 'alice', name: 'Alice Johnson', mrn: 'MRN100001' },
  'no-js': { login: 'robert', name: 'Robert Smith', mrn: 'MRN100002' },
} as const;

/** The clinic's (America/New_York) date and time `minutes` from now, as the form takes them. */
function clinicTimeIn(minutes: number): { date: string; time: string } {
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
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/** Staff cancel every visit of `patient` still listed (left by earlier runs). */
async function cancelVisitsOf(staff: Page, patient: string) {
  const cancel = staff.getByRole('button', { name: new RegExp(`^Cancel the visit of ${patient}`) });
  for (let left = await cancel.count(); left > 0; left--) {
    await cancel.first().click();
    await expect(staff.getByRole('status')).toContainText('Video visit cancelled');
    await expect(cancel).toHaveCount(left - 1);
  }
}

test.describe('video visits', () => {
  test('staff schedule a visit; the patient acknowledges the limitations and reaches the join link through the leaving page', { tag: '@nojs' }, async ({ page, openPage }) => {
    test.setTimeout(120_000);
    const patient = PATIENTS[test.info().project.name as keyof typeof PATIENTS];
    const room = `https://video.example.org/room/e2e-${Date.now().toString(36)}?pin=${Math.floor(Math.random() * 9000) + 1000}`;
    const staff = await openPage();

    await test.step('front desk schedules the visit, six minutes ahead, with Dr. Lee', async () => {
      await signIn(staff, 'frontdesk', { portal: 'staff' });
      await expect(staff).toHaveURL('/staff');
      await staff.getByRole('navigation', { name: 'Staff' }).getByRole('link', { name: 'Video visits' }).click();
      await expect(heading(staff)).toHaveText('Video visits');
      await cancelVisitsOf(staff, patient.name);
      const { date, time } = clinicTimeIn(6);
      await staff.getByLabel("Patient's record number").fill(patient.mrn);
      await staff.getByLabel('Clinician').selectOption({ label: 'Dr. Morgan Lee' });
      await staff.getByLabel('Date').fill(date);
      await staff.getByLabel('Start time').fill(time);
      await staff.getByLabel('Length').selectOption('30');
      await staff.getByLabel('Join link of the video service').fill(room);
      await staff.getByRole('button', { name: 'Schedule video visit' }).click();
      await expect(staff.getByRole('status')).toContainText('Video visit scheduled');
      // Cancelled visits of earlier runs stay listed until they end, without a Cancel button.
      const row = staff.getByRole('row').filter({ hasText: patient.name }).filter({ has: staff.getByRole('button', { name: /^Cancel/ }) });
      await expect(row).toHaveCount(1);
      await expect(row).toContainText('video.example.org');
      await expect(row).toContainText('Dr. Morgan Lee');
    });

    await test.step('a link with the patient\'s name is refused', async () => {
      const { date, time } = clinicTimeIn(60 * 24);
      await staff.getByLabel("Patient's record number").fill(patient.mrn);
      await staff.getByLabel('Date').fill(date);
      await staff.getByLabel('Start time').fill(time);
      await staff.getByLabel('Join link of the video service').fill(`https://video.example.org/room/${patient.name.split(' ')[1].toLowerCase()}`);
      await staff.getByRole('button', { name: 'Schedule video visit' }).click();
      await expect(staff.getByRole('alert')).toContainText("contains the patient's name");
      await expect(staff.getByRole('row').filter({ hasText: patient.name }).filter({ has: staff.getByRole('button', { name: /^Cancel/ }) })).toHaveCount(1);
    });

    await test.step('the patient finds it under Video visits; the join link is not on the page', async () => {
      await signIn(page, patient.login);
      await expect(page).toHaveURL('/home');
      await mainNav(page).getByRole('link', { name: 'Video visits' }).click();
      await expect(heading(page)).toHaveText('Video visits');
      const upcoming = page.getByRole('region', { name: 'Upcoming' });
      await expect(upcoming.getByRole('listitem').filter({ hasText: 'Dr. Morgan Lee' })).toHaveCount(1);
      await expect(page.getByRole('region', { name: 'Past and cancelled' })).toBeVisible();
      await upcoming.getByRole('link', { name: /^Begin visit/ }).click();
      await expect(heading(page)).toHaveText('Video visit');
      await expect(page.locator('body')).not.toContainText('video.example.org');
    });

    await test.step('Begin visit: the limitations and the acknowledgement', async () => {
      const begin = page.getByRole('region', { name: 'Before you begin' });
      await expect(begin).toContainText('miss something a physical exam would find');
      await expect(begin).toContainText('can fail');
      await expect(begin).toContainText('call us at (555) 010-0100');
      const box = begin.getByLabel(/I understand the limitations of a video visit/);
      await expect(box).toHaveAttribute('required', '');
      await box.check();
      await begin.getByRole('button', { name: 'Begin visit' }).click();
    });

    const visitPath = await test.step('the leaving page names the host; Continue is the join link, without Referer', async () => {
      await expect(page).toHaveURL(/\/leaving\?/);
      await expect(heading(page)).toHaveText('You are leaving the portal');
      await expect(page.locator('.leaving__host strong')).toHaveText('video.example.org');
      await expect(page.getByRole('main')).toContainText('not responsible for its content');
      const go = page.getByRole('link', { name: /^Continue to video\.example\.org/ });
      await expect(go).toHaveAttribute('href', room);
      await expect(go).toHaveAttribute('rel', /noreferrer/);
      await expect(go).toHaveAttribute('rel', /noopener/);
      return new URL(page.url()).searchParams.get('back')!;
    });

    await test.step('Back returns to the visit', async () => {
      expect(visitPath).toMatch(/^\/visits\/[0-9a-f]{32}$/);
      await page.getByRole('link', { name: 'Back', exact: true }).click();
      await expect(page).toHaveURL(visitPath);
      await expect(heading(page)).toHaveText('Video visit');
    });

    await test.step('staff cancel it: the patient sees it under Past and cancelled', async () => {
      await cancelVisitsOf(staff, patient.name);
      await page.goto('/visits');
      await expect(page.getByRole('region', { name: 'Upcoming' })).toContainText('You have no video visits scheduled');
      await expect(page.getByRole('region', { name: 'Past and cancelled' })).toContainText('Dr. Morgan Lee: Cancelled');
    });
  });
});
