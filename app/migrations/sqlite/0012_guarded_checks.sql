-- Checks of something secret that a limit guards: a second-step code or passkey answer, a
-- password typed again by someone already signed in. A check takes its row ('pending') before it
-- is made, in a write transaction that first locks the subject's row of rate_subjects, and marks
-- it after; a pending row counts as a failure. So guesses sent all at once, to one server or to
-- several, are never all checked: at most the limit's number are.
-- Kept in step with ../postgres/0012_guarded_checks.sql.

CREATE TABLE guarded_checks (
    id       TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,                            -- 'second-step', 'password-again'
    subject  TEXT NOT NULL,                            -- the user's id
    at       INTEGER NOT NULL,
    outcome  TEXT NOT NULL CHECK (outcome IN ('pending', 'failed', 'succeeded'))
);
CREATE INDEX guarded_checks_by_subject ON guarded_checks (kind, subject, at);

-- A passkey answering the second step after a password: a ceremony for one user, with only that
-- user's passkeys allowed. Ceremonies live five minutes, so the table is simply made again with
-- the new kind (one in flight during the upgrade is asked again).
DROP TABLE webauthn_ceremonies;
CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id),            -- registration, second step: who; sign-in: nobody yet
    kind        TEXT NOT NULL CHECK (kind IN ('register', 'sign-in', 'second-step')),
    name        TEXT,                                  -- registration: the name chosen
    options     TEXT,                                  -- registration: what the browser is given (JSON)
    state       TEXT NOT NULL,                         -- JSON
    expires_at  INTEGER NOT NULL
);
