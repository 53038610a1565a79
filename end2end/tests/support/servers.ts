/**
 * The portal servers the suite runs against, and the browser it drives. Shared by
 * playwright.config.ts (which starts the servers) and the specs (which pick one by its URL).
 */
import os from 'node:os';
import path from 'node:path';
import type { LaunchOptions } from '@playwright/test';

export interface PortalServer {
  name: string;
  port: number;
  url: string;
  /** Fresh for every start: the start command deletes it first. */
  dataDir: string;
  /** Extra environment of this server. */
  env: Record<string, string>;
  /**
   * A shell command run after `server demo` and before `server serve` (optional), with
   * PORTAL_DATA_DIR set: to put the demo clinic into a state a test needs.
   */
  afterDemo?: string;
}

function server(name: string, port: number, env: Record<string, string> = {}): PortalServer {
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir: path.join(os.tmpdir(), `portal-e2e-${name}-${port}`),
    env,
  };
}

const basePort = Number(process.env.PORTAL_E2E_PORT ?? 3100);

/** The portal with its default settings (15-minute idle timeout). */
export const MAIN = server('main', basePort);

/** The same portal with a very short idle timeout, for the timeout tests only. */
export const SHORT_TIMEOUT = {
  ...server('short-timeout', basePort + 1, {
    PORTAL_IDLE_TIMEOUT_SECS: '20',
    PORTAL_IDLE_WARNING_SECS: '10',
  }),
  idleSecs: 20,
  warnSecs: 10,
};

/**
 * The portal as deployed behind TLS: `Secure`, `__Host-` cookies. Browsers treat
 * http://localhost as a secure context, so the cookies work without a certificate here.
 */
export const SECURE_COOKIES: PortalServer = {
  ...server('secure-cookies', basePort + 2, {
    PORTAL_PUBLIC_URL: `https://localhost:${basePort + 2}`,
  }),
  url: `http://localhost:${basePort + 2}`,
};

/**
 * The enrolment and account-life tests' portal (enrolment.spec.ts, account-life.spec.ts):
 *
 * - behind a (pretend) load balancer, `PORTAL_TRUST_PROXY=true`: the anonymous forms are limited
 *   per client address (10 enrolment requests an hour), so each test that uses them sends its own
 *   `X-Forwarded-For` address (see `newPerson` in enrol.ts) and re-runs against a reused server are
 *   never throttled;
 * - robert's password is 200 days old (SPEC R-ENR-5), set in the database after `demo`.
 *   Nothing else on this server signs robert in; carol's access is ended and restored here.
 */
export const ACCOUNTS: PortalServer = {
  ...server('accounts', basePort + 3, { PORTAL_TRUST_PROXY: 'true' }),
  afterDemo: `sqlite3 -cmd '.timeout 5000' "$PORTAL_DATA_DIR/portal.db" "UPDATE users SET password_changed_at = password_changed_at - 200*86400000 WHERE login = 'robert'"`,
};

/**
 * The portal on which an administrator publishes new versions of the terms (terms tests only):
 * a new version sends every patient of the server to the terms at their next sign-in, which
 * must not happen on the servers other tests sign in to.
 */
export const TERMS: PortalServer = server('terms', basePort + 4);

/**
 * The messaging tests' portal (messaging.spec.ts): Dr. Lee goes out of office here, which would
 * re-route the messages of every other test's server.
 */
export const MESSAGING: PortalServer = server('messaging', basePort + 5);

/**
 * The passkey tests' portal (passkeys.spec.ts): WebAuthn needs a host name, not an IP address,
 * so its public URL, and the address the browser opens, is `localhost`.
 */
export const PASSKEYS: PortalServer = {
  ...server('passkeys', basePort + 6, { PORTAL_PUBLIC_URL: `http://localhost:${basePort + 6}` }),
  url: `http://localhost:${basePort + 6}`,
};

/**
 * The questionnaire tests' portal (questionnaires.spec.ts): alice stops visit surveys and is
 * given forms here, which would add notices to the mail other tests wait for.
 */
export const QUESTIONNAIRES: PortalServer = server('questionnaires', basePort + 8);

/**
 * The video-visit and external-link tests' portal (telemedicine.spec.ts, external-links.spec.ts):
 * staff schedule and cancel visits here, and each visit e-mails its patient, which must not
 * reach the mail other tests' servers count.
 */
export const VISITS: PortalServer = server('visits', basePort + 7);

/** Every demo account has this password (`server demo`). */
export const DEMO_PASSWORD = 'demo-portal-2026';

/**
 * Debian's Chromium: this machine has no Playwright-downloaded browser and no internet.
 * CHROMIUM_PATH overrides the path.
 */
export const launchOptions: LaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/**
 * The maintenance tests' portal (maintenance.spec.ts): a maintenance window in progress turns
 * every patient page into the maintenance page, which must not happen on other tests' servers.
 * (basePort + 8 is the questionnaire tests' server.)
 */
export const MAINTENANCE: PortalServer = server('maintenance', basePort + 9);
