/**
 * The `test` every spec uses. Its automatic `guard` fixture watches the test's page and, when the
 * test ends, fails it if
 *
 *  (a) any page the test visited has an accessibility violation of impact "serious" or
 *      "critical" under WCAG 2.0/2.1 A and AA (axe-core), or a page could not be checked;
 *  (b) the browser made any request to an origin other than the portal's own (the page's
 *      Content-Security-Policy should make that impossible: SPEC R-GEN-3).
 *
 * Every page is checked with axe just before the browser leaves it: the guard intercepts each
 * navigation of the main frame (a document load, or an islands-router fetch of the next page)
 * and scans the page still on screen before letting the request go. The last page is scanned
 * when the test ends. A test that must not intercept requests (Playwright turns the HTTP cache
 * off while any route is set) sets `test.use({ scanBeforeLeaving: false })` and calls
 * `guard.scan()` itself on each page; the guard then fails the test if it left a page unscanned.
 */
import { test as base, expect, type Page, type Request, type Route, type TestInfo } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

interface Visit {
  url: string;
  scanned: boolean;
}

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

function withoutHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** The origin a request goes to; for a blob: URL, the origin that made it. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url.startsWith('blob:') ? url.slice('blob:'.length) : url);
    const scheme = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${scheme}//${u.host}`;
  } catch {
    return null;
  }
}

export class PageGuard {
  private readonly visits: Visit[] = [];
  private readonly a11yProblems: string[] = [];
  private readonly scanErrors: string[] = [];
  private readonly foreignRequests: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private scans = 0;

  constructor(
    readonly page: Page,
    /** `http://127.0.0.1:PORT` of the server under test. */
    readonly origin: string,
    private readonly info: TestInfo,
  ) {}

  /** Starts watching; with `scanBeforeLeaving`, intercepts navigations to scan each page first. */
  async start(scanBeforeLeaving: boolean): Promise<void> {
    const { page } = this;
    page.context().on('request', (r) => this.checkRequest(r));
    page.on('websocket', (ws) => this.checkUrl(ws.url(), 'websocket', 'GET'));
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.visited(frame.url());
    });
    if (scanBeforeLeaving) {
      await page.route('**/*', (route) => this.beforeRequest(route));
    }
  }

  /**
   * Checks the page on screen with axe (once per visit: a page already checked is not checked
   * again). Scans run one at a time.
   */
  scan(): Promise<void> {
    const run = this.queue.then(() => this.scanNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Fails the test for everything the guard saw. Called when the test ends. */
  async finish(): Promise<void> {
    const { page, info } = this;
    if (!page.isClosed()) {
      await page.waitForLoadState('load', { timeout: 5_000 }).catch(() => undefined);
      await this.scan().catch(() => undefined);
    }
    await this.queue;
    if (!page.isClosed()) await page.unrouteAll({ behavior: 'ignoreErrors' });

    const failures: string[] = [];
    if (this.foreignRequests.length) {
      failures.push(
        `The browser made requests to origins other than ${this.origin}:\n` +
          this.foreignRequests.map((r) => `  - ${r}`).join('\n'),
      );
    }
    if (this.a11yProblems.length) {
      failures.push(
        `Accessibility violations of impact serious or critical (${WCAG_TAGS.join(', ')}):\n` +
          this.a11yProblems.join('\n'),
      );
    }
    if (this.scanErrors.length) {
      failures.push(`Pages that axe could not check:\n${this.scanErrors.map((e) => `  - ${e}`).join('\n')}`);
    }
    // Only a test that otherwise passed is held to "every page was checked": a failed test
    // stopped part-way, and its own error is the one that matters.
    const passedSoFar = info.status === info.expectedStatus;
    const unscanned = this.visits.filter((v) => !v.scanned && v.url !== 'about:blank');
    if (passedSoFar && unscanned.length) {
      failures.push(
        'Pages visited but never checked with axe (call guard.scan() on each page when scanBeforeLeaving is off):\n' +
          unscanned.map((v) => `  - ${v.url}`).join('\n'),
      );
    }
    info.annotations.push({ type: 'axe', description: `${this.scans} page state(s) checked` });
    if (failures.length) throw new Error(failures.join('\n\n'));
  }

  private visited(url: string): void {
    const last = this.visits[this.visits.length - 1];
    const clean = withoutHash(url);
    if (last && last.url === clean) return;
    this.visits.push({ url: clean, scanned: false });
  }

  private async beforeRequest(route: Route): Promise<void> {
    const request = route.request();
    let leaving = request.headers()['islands-router'] !== undefined;
    if (!leaving && request.isNavigationRequest()) {
      try {
        leaving = request.frame() === this.page.mainFrame();
      } catch {
        leaving = false;
      }
    }
    if (leaving) await this.scan().catch(() => undefined);
    await route.fallback();
  }

  private async scanNow(): Promise<void> {
    const { page } = this;
    const visit = this.visits[this.visits.length - 1];
    if (page.isClosed() || !visit || visit.scanned || visit.url === 'about:blank') return;
    const url = visit.url;
    let results: AxeResults;
    try {
      // Legacy mode runs axe in the page itself; the portal's pages have no frames, and the
      // default mode would open an extra page to assemble the results.
      results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).setLegacyMode(true).analyze();
    } catch (e) {
      this.scanErrors.push(`${url}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      return;
    }
    visit.scanned = true;
    this.scans += 1;
    const blocking = results.violations.filter((v) => BLOCKING_IMPACTS.has(v.impact ?? ''));
    const other = results.violations.filter((v) => !BLOCKING_IMPACTS.has(v.impact ?? ''));
    for (const v of blocking) {
      const nodes = v.nodes
        .slice(0, 5)
        .map((n) => `      ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
        .join('\n');
      this.a11yProblems.push(`  - ${url}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`);
    }
    for (const v of other) {
      this.info.annotations.push({ type: `axe ${v.impact}`, description: `${url}: ${v.id}: ${v.help}` });
    }
    if (results.violations.length) {
      await this.info.attach(`axe ${url}`, {
        body: JSON.stringify(results.violations, null, 2),
        contentType: 'application/json',
      });
    }
  }

  private checkRequest(r: Request): void {
    this.checkUrl(r.url(), r.resourceType(), r.method());
  }

  private checkUrl(url: string, type: string, method: string): void {
    if (url.startsWith('data:') || url === 'about:blank') return;
    const origin = originOf(url);
    if (origin !== this.origin) {
      const from = this.page.isClosed() ? '' : ` (on ${this.page.url()})`;
      this.foreignRequests.push(`${method} ${url} [${type}]${from}`);
    }
  }
}

export const test = base.extend<{ guard: PageGuard; scanBeforeLeaving: boolean }>({
  scanBeforeLeaving: [true, { option: true }],
  guard: [
    async ({ page, baseURL, scanBeforeLeaving }, use, testInfo) => {
      const origin = originOf(baseURL ?? '');
      if (!origin) throw new Error('baseURL is not set');
      const guard = new PageGuard(page, origin, testInfo);
      await guard.start(scanBeforeLeaving);
      await use(guard);
      await guard.finish();
    },
    { auto: true },
  ],
});

export { expect };
