import { defineConfig } from '@playwright/test';
import path from 'node:path';
import { ACCOUNTS, MAIN, MAINTENANCE, MESSAGING, PASSKEYS, QUESTIONNAIRES, SECURE_COOKIES, SHORT_TIMEOUT, TERMS, VISITS, launchOptions, type PortalServer } from './tests/support/servers';

/**
 * End-to-end tests of the portal, against the real server binary.
 *
 *   cd end2end && npm ci && npx playwright test       (CI=true: fresh servers, no retries)
 *
 * The server binary is target/debug/server unless PORTAL_SERVER_BIN names another (relative
 * to the workspace root, or absolute); build it first (cargo leptos build). The browser is
 * the system Chromium (see tests/support/servers.ts); never `npx playwright install`.
 *
 * Tests tagged @nojs run twice: with JavaScript (project "hydrated") and without ("no-js").
 * All others run only in "hydrated".
 */

const workspaceRoot = path.resolve(__dirname, '..');
const serverBin = process.env.PORTAL_SERVER_BIN ?? 'target/debug/server';

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts one portal on its own port with its own fresh data folder, the demo clinic loaded without
 * its activity (the tests make their own conversations and assignments; then
 * the server's `afterDemo` command, if it has one).
 */
function webServer(s: PortalServer) {
  const bin = quote(serverBin);
  const dir = quote(s.dataDir);
  const afterDemo = s.afterDemo ? `${s.afterDemo} && ` : '';
  return {
    name: s.name,
    command: `rm -rf ${dir} && ${bin} demo --without-activity >/dev/null && ${afterDemo}exec ${bin} serve`,
    cwd: workspaceRoot,
    url: `http://127.0.0.1:${s.port}/healthz`,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${s.port}`,
      PORTAL_DATA_DIR: s.dataDir,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...s.env,
    },
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
  };
}

export default defineConfig({
  testDir: './tests',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Two cores: one worker per core.
  workers: 2,
  // A test is a whole visit (two people, mail, password hashes): on this two-core machine with
  // other work beside it, flows took up to a minute and one ran out of 45 s with every step fine
  // (account-life's ending of access). A stuck step still fails at expect's own 10 s.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI
    ? [['list'], ['html', { open: 'never' }], ['junit', { outputFile: 'test-results/junit.xml' }]]
    : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: MAIN.url,
    // The pages' Content-Security-Policy (nonces, 'strict-dynamic') would refuse axe-core's
    // injected script; the tests check the policy's effect separately (no foreign requests).
    bypassCSP: true,
    launchOptions,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'hydrated',
      use: { javaScriptEnabled: true },
    },
    {
      name: 'no-js',
      grep: /@nojs/,
      use: { javaScriptEnabled: false },
    },
  ],
  webServer: [webServer(MAIN), webServer(SHORT_TIMEOUT), webServer(SECURE_COOKIES), webServer(ACCOUNTS), webServer(TERMS), webServer(MESSAGING), webServer(PASSKEYS), webServer(VISITS), webServer(MAINTENANCE), webServer(QUESTIONNAIRES)],
});
