/**
 * A browser that refuses cookies cannot keep a session; it is told so at sign-in instead of
 * being sent back to the sign-in page without a word. The browser here keeps no cookie: every
 * answer reaches it without its Set-Cookie headers, and the context's cookies are cleared after
 * each one. (Both portals, without a browser: server/tests/api/sign_in_cookies.rs.)
 */
import { test, expect } from './support/fixtures';
import { heading, signIn } from './support/portal';

test('a browser that refuses cookies is told to enable them when it signs in', { tag: '@nojs' }, async ({ page, context }) => {
  await page.route('**/*', async (route) => {
    // A request still in flight when the test ends (the WASM, say) fails here: not this test's.
    const response = await route.fetch({ maxRedirects: 0 }).catch(() => null);
    if (!response) return;
    await context.clearCookies();
    const headers = response.headers();
    // What the browser would have kept; and the body arrives decoded.
    delete headers['set-cookie'];
    delete headers['content-encoding'];
    delete headers['content-length'];
    await route.fulfill({ response, headers });
  });
  // The auditor: no other test signs in as the auditor on this server.
  await signIn(page, 'auditor', { portal: 'staff' });
  await expect(page).toHaveURL('/staff/sign-in?error=cookies');
  await expect(heading(page)).toHaveText('Staff sign-in');
  await expect(page.getByRole('alert')).toContainText('Please enable cookies to sign in.');
  expect(await context.cookies()).toEqual([]);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});
