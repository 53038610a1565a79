/**
 * The guard's own test: on a page made up for the purpose, it must report an accessibility
 * violation and a request to another origin. (Its own page and browser context: the guard
 * that watches every test's `page` sees nothing of it.)
 */
import { test, expect, PageGuard } from './support/fixtures';

const BAD_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Guard self-test</title></head>
<body><main><h1>Guard self-test</h1>
<img src="/favicon.svg">
<img src="http://example.invalid/pixel.png" alt="">
</main></body></html>`;

test('the guard reports accessibility violations and requests to other origins', { tag: '@nojs' }, async ({ browser, baseURL, javaScriptEnabled }, testInfo) => {
  const context = await browser.newContext({ javaScriptEnabled, bypassCSP: true });
  try {
    const page = await context.newPage();
    const url = `${baseURL}/guard-self-test`;
    await page.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: BAD_PAGE }));
    const guard = new PageGuard(page, new URL(url).origin, browser, javaScriptEnabled !== false, testInfo);
    guard.start();
    await page.goto(url);
    const error = await guard.finish().then(
      () => null,
      (e: Error) => e,
    );
    expect(error, 'the guard failed the page').not.toBeNull();
    expect(error!.message).toContain('[critical] image-alt');
    expect(error!.message).toContain(`${url}:`);
    expect(error!.message).toContain('GET http://example.invalid/pixel.png [image]');
  } finally {
    await context.close();
  }
});
