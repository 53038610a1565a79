// Page-to-page navigation without reloading the document (SPA-style), with the meaning of a
// full page load. Every page is a plain server-rendered HTML page; this script fetches the next
// one for a link or a form and brings the current document in line with it.
//
// The rule that matters: after a navigation the page shows exactly what the server sent. The
// elements are matched parent by parent (never by walking two documents in step, which goes
// wrong as soon as one page has an element the other lacks), attributes that the new page
// lacks are removed, and form fields take the values the server rendered (typed text does not
// survive a submit, as with a full page load). Islands (the hydrated widgets) that are the same
// on both pages are kept as they are, so their state survives; new ones are hydrated.
//
// Anything this script does not handle (other origins, downloads, `target`, `rel="external"`,
// `data-reload`, a non-HTML answer, a new build of the site) falls back to the browser's own
// navigation.
(() => {
  if (!window.fetch || !window.DOMParser || !window.history || !history.pushState) return;

  let latest = 0;
  history.scrollRestoration = 'manual';

  const sameOrigin = (url) => url.origin === location.origin;
  // The site's files carry a hash of their contents in their names: other names, another build.
  const assets = (doc) =>
    Array.from(doc.querySelectorAll('link[href^="/pkg/"], script[src^="/pkg/"]'), (l) => l.getAttribute('href') || l.getAttribute('src'));
  // What this document loaded. Scripts that come in with a swapped page do not run, so a page
  // may be swapped in only when everything it needs is loaded already.
  const loaded = new Set(assets(document));

  function rememberScroll() {
    history.replaceState({ ...(history.state || {}), scroll: [scrollX, scrollY] }, '');
  }

  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target instanceof Element ? ev.target.closest('a[href]') : null;
    if (!a || a.target || a.hasAttribute('download') || a.hasAttribute('data-reload')) return;
    if ((a.getAttribute('rel') || '').split(/\s+/).includes('external')) return;
    const url = new URL(a.href, document.baseURI);
    if (!sameOrigin(url) || !/^https?:$/.test(url.protocol)) return;
    // A link within the page (the skip link, a table of contents) is the browser's job.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    ev.preventDefault();
    go(url, { method: 'GET' }, 'push');
  });

  document.addEventListener('submit', (ev) => {
    if (ev.defaultPrevented) return;
    const form = ev.target;
    const submitter = ev.submitter || null;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute('data-reload')) return;
    // Attributes, not properties: a form's controls shadow its properties (a button named
    // "action" makes `form.action` that button).
    if ((submitter && submitter.getAttribute('formtarget')) || form.getAttribute('target')) return;
    const method = ((submitter && submitter.getAttribute('formmethod')) || form.getAttribute('method') || 'get').toUpperCase();
    const action = new URL((submitter && submitter.getAttribute('formaction')) || form.getAttribute('action') || location.href, document.baseURI);
    if (!sameOrigin(action) || (method !== 'GET' && method !== 'POST')) return;
    ev.preventDefault();
    // One submission at a time per form: a second click while the first is on its way is
    // ignored, as people who double-click expect.
    if (form.hasAttribute('data-sending')) return;
    const data = new FormData(form, submitter);
    if (method === 'GET') {
      action.search = new URLSearchParams(data).toString();
      go(action, { method: 'GET' }, 'push');
      return;
    }
    const multipart = (form.getAttribute('enctype') || '').toLowerCase() === 'multipart/form-data';
    form.setAttribute('data-sending', '');
    go(action, { method: 'POST', body: multipart ? data : new URLSearchParams(data) }, 'push')
      .finally(() => form.removeAttribute('data-sending'));
  });

  window.addEventListener('popstate', (ev) => {
    go(new URL(location.href), { method: 'GET' }, 'pop', ev.state && ev.state.scroll);
  });

  // The page the browser may bring back from its back/forward cache (after signing out, for
  // instance) is asked for again, so that it shows what the server says now.
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) location.reload();
  });

  async function go(url, init, mode, scroll) {
    const nav = ++latest;
    const root = document.documentElement;
    root.setAttribute('data-navigating', '');
    let resp;
    try {
      resp = await fetch(url, { ...init, credentials: 'same-origin', headers: { Accept: 'text/html' } });
    } catch (e) {
      // Offline or refused: let the browser show its own page for a link; a form stays as it
      // is (nothing was sent, or the answer was lost) with the busy state cleared.
      if (nav === latest) root.removeAttribute('data-navigating');
      if (init.method === 'GET') location.assign(url);
      return;
    }
    if (nav !== latest) return;
    const type = resp.headers.get('content-type') || '';
    if (!type.startsWith('text/html')) {
      // A file or an answer meant for a script: the browser fetches a link itself; after a
      // form, the current page is shown as it now stands (the form is never sent twice).
      root.removeAttribute('data-navigating');
      if (init.method === 'GET') location.assign(url);
      else location.reload();
      return;
    }
    const html = await resp.text();
    if (nav !== latest) return;
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const target = new URL(resp.redirected ? resp.url : url.href);
    if (!target.hash && url.hash && !resp.redirected) target.hash = url.hash;
    // A new build of the site (other scripts and styles), or a page that needs a script this
    // document has not loaded (the WASM loads only where an island is; the session timer only
    // on signed-in pages): load the page for real.
    if (!assets(doc).every((a) => loaded.has(a))) {
      location.assign(target);
      return;
    }
    if (mode === 'push') {
      rememberScroll();
      history.pushState({}, '', target);
    } else if (target.href !== location.href) {
      history.replaceState(history.state, '', target);
    }
    const swap = () => {
      document.title = doc.title;
      if (doc.documentElement.lang) root.lang = doc.documentElement.lang;
      morphChildren(document.body, doc.body);
      root.removeAttribute('data-navigating');
      settle(target, scroll);
      // For our other scripts: a new page is in (the session timer starts again from it).
      document.dispatchEvent(new Event('portal:navigated'));
    };
    if (document.startViewTransition && !matchMedia('(prefers-reduced-motion: reduce)').matches) {
      document.startViewTransition(swap);
    } else {
      swap();
    }
  }

  // Where the person's attention goes after the page changed: to what the page says about
  // what just happened (an alert or a status), else to its heading, as a screen reader user
  // would find it after a full page load.
  function settle(target, scroll) {
    const main = document.querySelector('main');
    const focus =
      (main && (main.querySelector('[role="alert"]') || main.querySelector('[role="status"]') || main.querySelector('h1'))) || main;
    if (focus) {
      if (!focus.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(focus.tagName)) {
        focus.setAttribute('tabindex', '-1');
      }
      focus.focus({ preventScroll: true });
    }
    const anchor = target.hash && document.getElementById(decodeURIComponent(target.hash.slice(1)));
    if (scroll) scrollTo(scroll[0], scroll[1]);
    else if (anchor) anchor.scrollIntoView();
    else scrollTo(0, 0);
  }

  function isIsland(node) {
    return node.nodeType === Node.ELEMENT_NODE && node.tagName === 'LEPTOS-ISLAND';
  }

  // Whether `old` can be brought in line with `next` rather than replaced by it.
  function matches(old, next) {
    if (old.nodeType !== next.nodeType) return false;
    if (old.nodeType !== Node.ELEMENT_NODE) return true;
    if (old.tagName !== next.tagName || old.id !== next.id) return false;
    if (isIsland(old)) return sameAttributes(old, next);
    // Forms are matched by where they send, so that the fields of one form never carry over
    // into another.
    if (old.tagName === 'FORM') return old.getAttribute('action') === next.getAttribute('action');
    return true;
  }

  function sameAttributes(a, b) {
    if (a.attributes.length !== b.attributes.length) return false;
    for (const attr of b.attributes) {
      if (a.getAttribute(attr.name) !== attr.value) return false;
    }
    return true;
  }

  function morphChildren(oldParent, newParent) {
    let old = oldParent.firstChild;
    let next = newParent.firstChild;
    while (next) {
      const following = next.nextSibling;
      if (!old) {
        insert(oldParent, next, null);
      } else if (matches(old, next)) {
        morph(old, next);
        old = old.nextSibling;
      } else if (following && matches(old, following)) {
        // Something was added before `old`.
        insert(oldParent, next, old);
      } else if (old.nextSibling && matches(old.nextSibling, next)) {
        // `old` is gone from the new page.
        const gone = old;
        old = old.nextSibling;
        gone.remove();
        morph(old, next);
        old = old.nextSibling;
      } else {
        const gone = old;
        old = old.nextSibling;
        insert(oldParent, next, gone);
        gone.remove();
      }
      next = following;
    }
    while (old) {
      const gone = old;
      old = old.nextSibling;
      gone.remove();
    }
  }

  function insert(parent, node, before) {
    const adopted = document.adoptNode(node);
    parent.insertBefore(adopted, before);
    hydrateIslandsIn(adopted);
  }

  function hydrateIslandsIn(node) {
    if (node.nodeType !== Node.ELEMENT_NODE || !window.__hydrateIsland) return;
    const islands = isIsland(node) ? [node] : Array.from(node.querySelectorAll('leptos-island'));
    for (const island of islands) window.__hydrateIsland(island, island.dataset.component);
  }

  function morph(old, next) {
    if (old.nodeType !== Node.ELEMENT_NODE) {
      if (old.nodeValue !== next.nodeValue) old.nodeValue = next.nodeValue;
      return;
    }
    // An island that is the same on both pages keeps its live DOM and state.
    if (isIsland(old)) return;
    for (const attr of Array.from(old.attributes)) {
      if (!next.hasAttribute(attr.name)) old.removeAttribute(attr.name);
    }
    for (const attr of next.attributes) {
      if (old.getAttribute(attr.name) !== attr.value) old.setAttribute(attr.name, attr.value);
    }
    // The values the server rendered, not what was typed before. Read before the children
    // move across (a textarea's text is its child).
    const tag = old.tagName;
    const checked = next.defaultChecked;
    const value = tag === 'INPUT' || tag === 'TEXTAREA' ? next.defaultValue : null;
    const selected = tag === 'SELECT' ? Array.from(next.options, (o) => o.selected) : null;
    morphChildren(old, next);
    if (tag === 'INPUT') {
      if (old.type === 'checkbox' || old.type === 'radio') old.checked = checked;
      else if (old.type === 'file') old.value = '';
      else old.value = value;
    } else if (tag === 'TEXTAREA') {
      old.value = value;
    } else if (selected) {
      Array.from(old.options).forEach((o, i) => {
        o.selected = !!selected[i];
      });
    }
  }
})();
