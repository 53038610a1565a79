-- Stronger sign-in (SPEC R-SES-1): the authenticator-app second step (TOTP) with its recovery
-- codes, the roles for which administrators require a second step, and how many wrong codes a
-- session waiting for its second step has seen.
-- Kept in step with ../postgres/0006_second_step.sql.

-- A user's authenticator-app secret, once confirmed with a code. `last_step` is the 30-second
-- step of the last code accepted: a code of that step or an earlier one is refused (no replay).
CREATE TABLE totp_credentials (
    user_id     TEXT PRIMARY KEY REFERENCES users (id),
    secret_hex  TEXT NOT NULL,
    enabled_at  INTEGER NOT NULL,
    last_step   INTEGER NOT NULL DEFAULT 0
);

-- A secret shown as a QR code and not yet confirmed (replaced by a new setup, deleted when
-- confirmed).
CREATE TABLE totp_setups (
    user_id     TEXT PRIMARY KEY REFERENCES users (id),
    secret_hex  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Recovery codes, stored as digests; each works once.
CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- Staff roles whose members must have a second step (or a passkey) to sign in.
CREATE TABLE second_step_policy (
    role        TEXT PRIMARY KEY,
    required_at INTEGER NOT NULL,
    set_by      TEXT REFERENCES users (id)
);

ALTER TABLE sessions ADD COLUMN step_failures INTEGER NOT NULL DEFAULT 0;
