-- Passkeys (SPEC R-SES-1): WebAuthn credentials with user verification, and the ceremonies in
-- progress (a challenge given to a browser, used once, for a few minutes). The credential is
-- stored as webauthn-rs serialises it (public key, counter); nothing secret.
-- Kept in step with ../sqlite/0007_passkeys.sql.

CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    credential_id  TEXT NOT NULL UNIQUE,               -- base64url, as browsers send it
    passkey        TEXT NOT NULL,                      -- JSON
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);

CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id),            -- registration: who; sign-in: nobody yet
    kind        TEXT NOT NULL CHECK (kind IN ('register', 'sign-in')),
    name        TEXT,                                  -- registration: the name chosen
    options     TEXT,                                  -- registration: what the browser is given (JSON)
    state       TEXT NOT NULL,                         -- JSON
    expires_at  BIGINT NOT NULL
);
