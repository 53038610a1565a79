/**
 * The `test` every spec uses. Its automatic `guard` fixture watches the test's page and, when the
 * test ends, fails it if
 *
 *  (a) any page the test visited has an accessibility violation of impact "serious" or
 *      "critical" under WCAG 2.0/2.1 A and AA (axe-core, through AxeBuilder), or could not be
 *      checked;
 *  (b) the browser made any request to an origin other than the portal's own (the pages'
 *      Content-Security-Policy should make that impossible: SPEC R-GEN-3).
 *
 * How every page gets checked without racing the test: the moment a page arrives (its document
 * is parsed, or the portal's navigation script has swapped it in and pushed its URL), the guard copies its
 * DOM (`page.content()`, a single quick call that is under way before the test can act on the
 * page). It then checks the copy with AxeBuilder in a separate, script-enabled "mirror" page
 * of the same size that shows the copy at the same URL with the same stylesheet (scripts
 * removed), while the test goes on. Checking the page itself would not do: axe-core needs
 * page scripts and timers (off in the no-js project), and Chromium stops answering for a page
 * as soon as it starts navigating away. In addition, `guard.scan()` checks the live page as
 * it is now (used for states such as the idle-timeout dialog), and the page's final state is
 * checked when the test ends.
 */
import {
  test as base,
  expect,
  type Browser,
  type BrowserContext,
  type Page,
  type Request,
  type TestInfo,
} from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

interface Visit {
  url: string;
  state: 'pending' | 'scanned' | 'left-before-loaded';
}

interface Snapshot {
  url: string;
  html: string;
}

function withoutHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}

/** The origin a request goes to (ws: counted as http:); for a blob: URL, the origin that made it. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url.startsWith('blob:') ? url.slice('blob:'.length) : url);
    const scheme = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${scheme}//${u.host}`;
  } catch {
    return null;
  }
}

/** `promise`, or a rejection after `ms`: a page that stops answering must not hang the test. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const COPY_TIMEOUT_MS = 10_000;
const AXE_TIMEOUT_MS = 30_000;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

export class PageGuard {
  private readonly visits: Visit[] = [];
  private readonly a11yProblems = new Map<string, string>();
  private readonly scanErrors: string[] = [];
  private readonly foreignRequests: string[] = [];
  /** Scans run one at a time, in the order they were asked for. */
  private queue: Promise<unknown> = Promise.resolve();
  private mirrorContext?: BrowserContext;
  private mirror?: Page;
  private mirrorSnapshot?: Snapshot;
  private scans = 0;

  constructor(
    readonly page: Page,
    /** `http://127.0.0.1:PORT` of the server under test. */
    readonly origin: string,
    private readonly browser: Browser,
    private readonly scriptsRun: boolean,
    private readonly info: TestInfo,
  ) {}

  start(): void {
    const { page } = this;
    page.context().on('request', (r: Request) => this.checkUrl(r.url(), r.resourceType(), r.method()));
    page.on('websocket', (ws) => this.checkUrl(ws.url(), 'websocket', 'GET'));
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.arrived(frame.url());
    });
  }

  /**
   * Checks the page as it is now (for a state that arrived without a navigation, such as a
   * dialog). With scripts on, axe runs in the page itself.
   */
  scan(): Promise<void> {
    if (this.page.isClosed()) return this.queue.then(() => undefined);
    const url = withoutHash(this.page.url());
    if (url === 'about:blank') return this.queue.then(() => undefined);
    // Without scripts, the copy is taken now, while the page is in the state asked about.
    const copy = this.scriptsRun ? null : within(this.page.content(), COPY_TIMEOUT_MS, 'copying the page');
    copy?.catch(() => undefined);
    return this.enqueue(async () => {
      try {
        const results = copy
          ? await this.scanSnapshot({ url, html: await copy })
          : await within(this.axe(this.page), AXE_TIMEOUT_MS, 'axe in the page');
        this.record(url, results);
      } catch (e) {
        this.scanErrors.push(`${url} (live): ${firstLine(e)}`);
      }
    });
  }

  /** Fails the test for everything the guard saw. Called when the test ends. */
  async finish(): Promise<void> {
    const { page, info } = this;
    // A test that failed stopped part-way; its own error is the one that matters.
    const passedSoFar = info.status === info.expectedStatus;
    if (passedSoFar && !page.isClosed()) {
      await page.waitForLoadState('load', { timeout: 5_000 }).catch(() => undefined);
      await this.scan();
    }
    await this.queue;
    await this.mirrorContext?.close().catch(() => undefined);

    const failures: string[] = [];
    if (this.foreignRequests.length) {
      failures.push(
        `The browser made requests to origins other than ${this.origin}:\n` +
          this.foreignRequests.map((r) => `  - ${r}`).join('\n'),
      );
    }
    if (this.a11yProblems.size) {
      failures.push(
        `Accessibility violations of impact serious or critical (${WCAG_TAGS.join(', ')}):\n` +
          [...this.a11yProblems.values()].join('\n'),
      );
    }
    if (this.scanErrors.length) {
      failures.push(`Pages that axe could not check:\n${this.scanErrors.map((e) => `  - ${e}`).join('\n')}`);
    }
    const unscanned = this.visits.filter((v) => v.state === 'pending');
    if (passedSoFar && unscanned.length) {
      failures.push(`Pages visited but never checked with axe:\n${unscanned.map((v) => `  - ${v.url}`).join('\n')}`);
    }
    const skipped = this.visits.filter((v) => v.state === 'left-before-loaded');
    if (skipped.length) {
      info.annotations.push({ type: 'axe', description: `left before it loaded: ${skipped.map((v) => v.url).join(', ')}` });
    }
    info.annotations.push({ type: 'axe', description: `${this.scans} page state(s) checked` });
    if (failures.length) throw new Error(failures.join('\n\n'));
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A main-frame navigation committed (a new document, or the navigation script's pushState). */
  private arrived(rawUrl: string): void {
    const url = withoutHash(rawUrl);
    const last = this.visits[this.visits.length - 1];
    if (url === 'about:blank' || (last && last.url === url && last.state !== 'left-before-loaded')) return;
    const visit: Visit = { url, state: 'pending' };
    this.visits.push(visit);
    // A new document: wait until it is parsed. A same-document navigation: already is. (A page
    // restored from the back/forward cache reports no load states at all: copy it as it is.)
    const copied = this.page
      .waitForLoadState('domcontentloaded', { timeout: COPY_TIMEOUT_MS / 2 })
      .catch(() => undefined)
      .then(() => within(this.page.content(), COPY_TIMEOUT_MS, 'copying the page'))
      .then(
        (html) => ({ html, url: withoutHash(this.page.url()) }),
        (e) => ({ error: e as unknown }),
      );
    void this.enqueue(async () => {
      const copy = await copied;
      if ('error' in copy) {
        if (this.page.isClosed() || this.visits[this.visits.length - 1] !== visit) visit.state = 'left-before-loaded';
        else this.scanErrors.push(`${url}: could not copy the page: ${firstLine(copy.error)}`);
        return;
      }
      if (copy.url !== url) {
        // The test moved on before this page was even parsed.
        visit.state = 'left-before-loaded';
        return;
      }
      try {
        this.record(url, await this.scanSnapshot({ url, html: copy.html }));
        visit.state = 'scanned';
      } catch (e) {
        this.scanErrors.push(`${url}: ${firstLine(e)}`);
      }
    });
  }

  private axe(page: Page): Promise<AxeResults> {
    // Legacy mode runs axe in the page itself; the portal's pages have no frames, and the
    // default mode would open yet another page to assemble the results.
    return new AxeBuilder({ page }).withTags(WCAG_TAGS).setLegacyMode(true).analyze();
  }

  /** Shows `snapshot` in the mirror page and checks it there. */
  private async scanSnapshot(snapshot: Snapshot): Promise<AxeResults> {
    const mirror = await this.openMirror();
    let html = snapshot.html
      .replace(/<script\b[\s\S]*?<\/script\s*>/gi, '')
      .replace(/<link\b[^>]*\brel=["']?(?:modulepreload|preload)\b[^>]*>/gi, '');
    // What the page showed for "no script" is what the reader saw.
    html = this.scriptsRun
      ? html.replace(/<noscript\b[\s\S]*?<\/noscript\s*>/gi, '')
      : html.replace(/<\/?noscript\b[^>]*>/gi, '');
    this.mirrorSnapshot = { url: snapshot.url, html };
    await mirror.goto(snapshot.url, { waitUntil: 'load', timeout: COPY_TIMEOUT_MS });
    return within(this.axe(mirror), AXE_TIMEOUT_MS, 'axe in the mirror page');
  }

  private async openMirror(): Promise<Page> {
    if (this.mirror) return this.mirror;
    this.mirrorContext = await this.browser.newContext({
      javaScriptEnabled: true,
      bypassCSP: true,
      viewport: this.page.viewportSize(),
    });
    const mirror = await this.mirrorContext.newPage();
    await mirror.route('**/*', async (route) => {
      const request = route.request();
      if (request.isNavigationRequest() && this.mirrorSnapshot) {
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: this.mirrorSnapshot.html });
      } else if (originOf(request.url()) === this.origin && request.method() === 'GET') {
        // The stylesheet, icons: static files of the portal.
        await route.continue();
      } else {
        await route.abort();
      }
    });
    this.mirror = mirror;
    return mirror;
  }

  private record(url: string, results: AxeResults): void {
    this.scans += 1;
    for (const v of results.violations) {
      const targets = v.nodes.map((n) => n.target.join(' '));
      const key = `${url} ${v.id} ${targets.join(',')}`;
      if (BLOCKING_IMPACTS.has(v.impact ?? '')) {
        if (this.a11yProblems.has(key)) continue;
        const nodes = v.nodes
          .slice(0, 5)
          .map((n) => `      ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
          .join('\n');
        this.a11yProblems.set(key, `  - ${url}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`);
      } else {
        this.info.annotations.push({ type: `axe ${v.impact}`, description: `${url}: ${v.id}: ${v.help}` });
      }
    }
  }

  private checkUrl(url: string, type: string, method: string): void {
    if (url.startsWith('data:') || url === 'about:blank') return;
    if (originOf(url) !== this.origin) {
      const from = this.page.isClosed() ? '' : ` (on ${this.page.url()})`;
      this.foreignRequests.push(`${method} ${url} [${type}]${from}`);
    }
  }
}

export const test = base.extend<{ guard: PageGuard }>({
  guard: [
    async ({ page, baseURL, browser, javaScriptEnabled }, use, testInfo) => {
      const origin = originOf(baseURL ?? '');
      if (!origin) throw new Error('baseURL is not set');
      const guard = new PageGuard(page, origin, browser, javaScriptEnabled !== false, testInfo);
      guard.start();
      await use(guard);
      await guard.finish();
    },
    { auto: true },
  ],
});

export { expect };
