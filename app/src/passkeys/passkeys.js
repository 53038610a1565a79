// Passkeys in the browser: asks the device to create or use a passkey with the options the
// server gave, and sends the answer back. WebAuthn works with binary fields; webauthn-rs sends
// and takes them as base64url text. Clicks are handled at the document, so buttons that arrive
// with a page loaded by navigation.js work too.
(() => {
  if (window.__passkeys) return;
  window.__passkeys = true;
  const supported = !!window.PublicKeyCredential;

  const toBytes = (s) => {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  };
  const toText = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const post = (path, fields) =>
    fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(fields),
      credentials: 'same-origin',
    });
  const showError = (button, text) => {
    const box = button.parentElement.querySelector('[data-passkey-error]');
    if (box) {
      box.textContent = text;
      box.hidden = false;
      box.focus?.();
    }
  };

  async function add(button) {
    const options = JSON.parse(button.dataset.options).publicKey;
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    for (const c of options.excludeCredentials || []) c.id = toBytes(c.id);
    const cred = await navigator.credentials.create({ publicKey: options });
    const credential = {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toText(cred.response.attestationObject),
        clientDataJSON: toText(cred.response.clientDataJSON),
      },
      extensions: cred.getClientExtensionResults(),
    };
    const answer = await post('/api/passkeys/finish-add', { ceremony: button.dataset.passkeyAdd, credential: JSON.stringify(credential) });
    if (!answer.ok) throw new Error('refused');
    location.assign(`${button.dataset.done}?added=1`);
  }

  // Asks the device for an assertion with the challenge the server gave at `startPath`.
  async function assertion(startPath) {
    const start = await post(startPath, {});
    if (!start.ok) throw new Error('unavailable');
    const challenge = await start.json();
    const options = JSON.parse(challenge.options).publicKey;
    options.challenge = toBytes(options.challenge);
    for (const c of options.allowCredentials || []) c.id = toBytes(c.id);
    const cred = await navigator.credentials.get({ publicKey: options });
    return { ceremony: challenge.ceremony, credential: {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toText(cred.response.authenticatorData),
        clientDataJSON: toText(cred.response.clientDataJSON),
        signature: toText(cred.response.signature),
        userHandle: cred.response.userHandle ? toText(cred.response.userHandle) : null,
      },
      extensions: cred.getClientExtensionResults(),
    } };
  }

  // Sign-in with a passkey alone (both steps in one).
  async function signIn(button) {
    const { ceremony, credential } = await assertion('/api/passkeys/sign-in-start');
    const answer = await post('/api/passkeys/sign-in-finish', {
      ceremony,
      credential: JSON.stringify(credential),
      portal: button.dataset.passkeySignIn,
    });
    if (!answer.ok) throw new Error('refused');
    location.assign(await answer.json());
  }

  // The second step after the password, with the user's own passkey.
  async function secondStep() {
    const { ceremony, credential } = await assertion('/api/second-step/passkey-start');
    const answer = await post('/api/second-step/passkey', { ceremony, credential: JSON.stringify(credential) });
    if (!answer.ok) throw new Error('refused');
    location.assign(await answer.json());
  }

  const failure = {
    add: 'The passkey was not created. Please try again.',
    signIn: 'That passkey did not work. Sign in with your user ID and password instead.',
    step: 'That passkey did not work. Please try again.',
  };

  document.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    const adding = target?.closest('[data-passkey-add]');
    const signing = target?.closest('[data-passkey-sign-in]');
    const stepping = target?.closest('[data-passkey-step]');
    const button = adding || signing || stepping;
    if (!button) return;
    ev.preventDefault();
    if (!supported) {
      showError(button, 'This browser cannot use passkeys.');
      return;
    }
    // A browser that refuses cookies could not keep the session the passkey opens.
    if (signing && !navigator.cookieEnabled) {
      showError(button, 'Please enable cookies to sign in.');
      return;
    }
    button.disabled = true;
    const kind = adding ? 'add' : signing ? 'signIn' : 'step';
    (adding ? add(adding) : signing ? signIn(signing) : secondStep()).catch(() => {
      button.disabled = false;
      showError(button, failure[kind]);
    });
  });
})();
