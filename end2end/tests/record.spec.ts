/**
 * My Medical Record as Alice reads it (SPEC R-REC-1, R-REC-5): Test Results with a High value
 * marked in words, its trend as a chart and as a table, her medications, allergies and a visit
 * summary, and Download My Record (a FHIR Bundle holding only her resources). With JavaScript
 * on and off (@nojs); every page goes through axe (the guard fixture).
 */
import { readFileSync } from 'node:fs';
import { test, expect } from './support/fixtures';
import { heading, mainNav, signIn } from './support/portal';

test.describe('my medical record', () => {
  test('Alice reads her results, a trend, medications, allergies and a visit, and downloads her record', { tag: '@nojs' }, async ({ page }) => {
    await signIn(page, 'alice');
    await expect(page).toHaveURL('/home');
    await expect(page.getByRole('heading', { name: 'Health Summary' })).toBeVisible();

    await test.step('Test Results: a High value is marked in words', async () => {
      await mainNav(page).getByRole('link', { name: 'My Medical Record' }).click();
      await expect(heading(page)).toHaveText('My Medical Record');
      await page.getByRole('link', { name: 'Test Results' }).click();
      await expect(page).toHaveURL('/record/results');
      await expect(heading(page)).toHaveText('Test Results');
      const bmp = page.getByRole('region', { name: /Basic metabolic panel/ }).first();
      const glucose = bmp.getByRole('article').filter({ has: page.getByRole('heading', { name: /^Glucose/ }) });
      await expect(glucose).toContainText('189 mg/dL');
      await expect(glucose.locator('.flag')).toHaveText('High');
      await expect(glucose).toContainText('Expected range');
    });

    await test.step('the filter is a plain form with words only in the address', async () => {
      await page.getByLabel('Kind').selectOption({ label: 'Lab tests' });
      await page.getByLabel('From').fill('2026-11-01');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect(page).toHaveURL(/\/record\/results\?kind=lab&from=2026-11-01/);
      await expect(page.getByRole('region', { name: /Basic metabolic panel/ })).toHaveCount(1);
    });

    await test.step('its trend: a chart drawn on the server, and the same values as a table', async () => {
      const a1c = page.getByRole('article').filter({ has: page.getByRole('heading', { name: /^Hemoglobin A1c/ }) }).first();
      await expect(a1c.locator('.flag')).toHaveText('High');
      await a1c.getByRole('link', { name: 'Trend of Hemoglobin A1c' }).click();
      await expect(page).toHaveURL(/\/record\/trends\/[0-9a-f]{32}$/);
      await expect(heading(page)).toHaveText('Hemoglobin A1c');
      await expect(page.getByRole('img', { name: 'Hemoglobin A1c over time' })).toBeVisible();
      const table = page.getByRole('table', { name: 'Hemoglobin A1c values, newest first' });
      await expect(table.getByRole('row').nth(1)).toContainText('8.6');
      await expect(table.getByRole('row').nth(1)).toContainText('High');
    });

    await test.step('on a phone the chart fits the screen and the main navigation is one row', async () => {
      const trend = page.url();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(trend);
      const chart = await page.getByRole('img', { name: 'Hemoglobin A1c over time' }).boundingBox();
      expect(chart!.width).toBeGreaterThan(300);
      expect(chart!.x + chart!.width).toBeLessThanOrEqual(390);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const nav = await mainNav(page).getByRole('list').boundingBox();
      const link = await mainNav(page).getByRole('link', { name: 'Home' }).boundingBox();
      expect(nav!.height).toBeLessThanOrEqual(link!.height + 1);
      await page.setViewportSize({ width: 1280, height: 720 });
    });

    await test.step('medications and allergies', async () => {
      await page.goto('/record');
      await page.getByRole('link', { name: 'Medications' }).click();
      await expect(heading(page)).toHaveText('Medications');
      const current = page.getByRole('region', { name: 'Current medications' });
      await expect(current).toContainText('Metformin 1000 mg tablet');
      await expect(page.getByRole('region', { name: 'Past medications' })).toContainText('Metformin 500 mg tablet');
      await page.goto('/record');
      await page.getByRole('link', { name: 'Allergies' }).click();
      await expect(heading(page)).toHaveText('Allergies');
      await expect(page.getByRole('heading', { name: 'Penicillin' })).toBeVisible();
      await expect(page.getByRole('main')).toContainText('Reaction');
    });

    await test.step('a visit summary', async () => {
      await page.goto('/record');
      await page.getByRole('main').getByRole('link', { name: 'Visits', exact: true }).click();
      await expect(heading(page)).toHaveText('Visits');
      await page.getByRole('link', { name: /on November 23, 2026/ }).click();
      await expect(heading(page)).toContainText('November 23, 2026');
      await expect(page.getByRole('heading', { name: 'Diagnoses' })).toBeVisible();
      await expect(page.getByRole('table', { name: 'Vital signs taken at this visit' })).toContainText('Blood pressure');
      await expect(page.getByRole('region', { name: 'After-visit summary and notes' }).getByRole('link', { name: /Download/ }).first()).toBeVisible();
    });

    await test.step('Download My Record: a FHIR Bundle of her own resources', async () => {
      await page.goto('/record');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download My Record (FHIR JSON)' }).click()]);
      const bundle = JSON.parse(readFileSync(await download.path(), 'utf8'));
      expect(bundle.resourceType).toBe('Bundle');
      const resources = bundle.entry.map((e: { resource: { resourceType: string; id: string; subject?: { reference?: string } } }) => e.resource);
      expect(resources.length).toBeGreaterThan(50);
      for (const r of resources) {
        expect(r.id, `${r.resourceType}/${r.id}`).not.toMatch(/^(robert|carol)/);
        if (r.subject?.reference) expect(r.subject.reference).toBe('Patient/alice');
      }
    });
  });
});
