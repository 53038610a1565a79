/** What the specs do again and again: signing in, finding the page's parts. */
import type { Locator, Page } from '@playwright/test';
import { expect } from './fixtures';
import { DEMO_PASSWORD } from './servers';

export type PortalKind = 'patient' | 'staff';

export function signInPath(portal: PortalKind): string {
  return portal === 'staff' ? '/staff/sign-in' : '/sign-in';
}

/** Fills in and submits the sign-in form of `portal` (opening its page first). */
export async function signIn(
  page: Page,
  userId: string,
  { portal = 'patient', password = DEMO_PASSWORD }: { portal?: PortalKind; password?: string } = {},
): Promise<void> {
  await page.goto(signInPath(portal));
  await page.getByLabel('User ID').fill(userId);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The patient's main navigation. */
export function mainNav(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Main' });
}

export function heading(page: Page): Locator {
  return page.getByRole('heading', { level: 1 });
}

/** The link to `label` is marked as the current page, and no other link in `nav` is. */
export async function expectCurrentLink(nav: Locator, label: string): Promise<void> {
  await expect(nav.getByRole('link', { name: label, exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(nav.locator('[aria-current]'), `only "${label}" is marked current`).toHaveCount(1);
}

/**
 * Waits until the page's WASM has loaded and its islands are hydrated: the hydration script
 * imports the JS glue (which defines window.__hydrateIsland), then fetches and instantiates the
 * WASM; after that the network goes quiet.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => typeof (window as unknown as { __hydrateIsland?: unknown }).__hydrateIsland === 'function');
  await page.waitForLoadState('networkidle');
}

/** The footer every page carries: help line and the links to terms and privacy notice. */
export async function expectFooter(page: Page): Promise<void> {
  const footer = page.getByRole('contentinfo');
  await expect(footer).toBeVisible();
  await expect(footer.getByRole('link', { name: 'Terms and conditions' })).toHaveAttribute('href', '/terms');
  await expect(footer.getByRole('link', { name: 'Notice of Privacy Practices' })).toHaveAttribute('href', '/privacy');
  const phone = footer.getByRole('link', { name: '(555) 010-0100' });
  await expect(phone).toHaveAttribute('href', 'tel:5550100100');
  await expect(footer).toContainText('Help with the portal: call (555) 010-0100');
}
