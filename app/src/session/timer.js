// The idle-timeout warning of a signed-in page (SPEC: warn before the session ends for
// inactivity, offer to stay signed in, then go to the sign-in page, which says why). A hashed
// static file (app/src/layout/scripts.rs), not an island: it was the one island on most
// signed-in pages, so every one of them loaded the whole WASM (~200 kB) for a timer (issue 16:
// the patient's home after signing in must stay under 100 kB).
//
// The page renders the dialog hidden, with the policy in data attributes
// (`app/src/session/mod.rs`, `SessionTimer`). The server is asked how long is really left before
// the warning shows (another tab or a page load may have kept the session alive); each arming
// belongs to an epoch, so timers of an older one do nothing when they fire.
(() => {
  let epoch = 0;
  let armed = false;

  const dialog = () => document.getElementById('session-timer');

  async function call(path) {
    const resp = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }
  const left = (path) => call(path).then((s) => (s && s.remaining_secs) || 0, () => 0);

  function arm(secsLeft) {
    const el = dialog();
    // A page without the dialog (the session ended, or a public page reached by navigation):
    // nothing to warn about until a signed-in page comes back.
    if (!el) {
      armed = false;
      return;
    }
    armed = true;
    const mine = epoch;
    const warn = Number(el.dataset.warn);
    setTimeout(async () => {
      if (mine !== epoch || !dialog()) {
        if (mine === epoch) armed = false;
        return;
      }
      const now = await left('/api/session/status');
      if (mine !== epoch) return;
      if (now > warn) {
        arm(now);
        return;
      }
      show(now, mine);
    }, Math.max(0, secsLeft - warn) * 1000);
  }

  function show(secs, mine) {
    const el = dialog();
    if (!el) return;
    el.hidden = false;
    // Focus on the button, so that a keyboard or screen-reader user lands on it.
    el.querySelector('button').focus();
    tick(secs, mine);
  }

  function tick(secs, mine) {
    if (mine !== epoch) return;
    const el = dialog();
    if (!el) return;
    if (secs <= 0) {
      const href = `${el.dataset.signIn}?reason=timeout`;
      call('/api/session/time-out').catch(() => {}).finally(() => location.assign(href));
      return;
    }
    el.querySelector('[data-seconds]').textContent = String(secs);
    setTimeout(() => tick(secs - 1, mine), 1000);
  }

  document.addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('#session-timer button') : null;
    if (!button) return;
    epoch += 1;
    dialog().hidden = true;
    left('/api/session/stay').then(arm);
  });

  const start = () => {
    const el = dialog();
    if (el && !armed) arm(Number(el.dataset.idle));
  };
  // navigation.js tells when it brought in another page: a page load is activity, so the
  // server's clock started again (and the page came with the dialog hidden).
  document.addEventListener('portal:navigated', () => {
    epoch += 1;
    armed = false;
    start();
  });
  start();
})();
