-- Accounts, sessions, sign-in attempts, the audit trail and the e-mail outbox.
-- Timestamps are milliseconds since the Unix epoch, UTC. Ids that can appear in URLs are
-- 128 random bits in hex.

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    login               TEXT NOT NULL UNIQUE,          -- the user ID, lower case
    display_name        TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('patient', 'staff')),
    staff_role          TEXT CHECK (staff_role IN ('front-desk', 'clinician', 'billing', 'administrator', 'auditor')),
    email               TEXT,
    date_of_birth       TEXT,                          -- patients: YYYY-MM-DD
    password_hash       TEXT,
    password_changed_at INTEGER,
    access              TEXT NOT NULL DEFAULT 'active' CHECK (access IN ('active', 'terminated')),
    created_at          INTEGER NOT NULL,
    CHECK ((kind = 'staff') = (staff_role IS NOT NULL))
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,                    -- SHA-256 of the cookie secret
    public_id     TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    ended_at      INTEGER,
    end_reason    TEXT,
    client_addr   TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_open ON sessions (last_seen_at) WHERE ended_at IS NULL;

CREATE TABLE known_devices (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
);

CREATE TABLE sign_in_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    login_key     TEXT NOT NULL,                       -- SHA-256 of the typed user ID
    device_key    TEXT NOT NULL,
    client_addr   TEXT,
    user_id       TEXT,
    outcome       TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'throttled'))
);
CREATE INDEX sign_in_attempts_by_login ON sign_in_attempts (login_key, device_key, at);
CREATE INDEX sign_in_attempts_by_addr ON sign_in_attempts (client_addr, at);

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    action        TEXT NOT NULL,
    actor_id      TEXT,
    subject_id    TEXT,
    record_type   TEXT,
    record_id     TEXT,
    client_addr   TEXT,
    detail        TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_by_subject ON audit_log (subject_id, seq);

-- The latest link of the chain; one row.
CREATE TABLE audit_head (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The application never changes or removes an audit entry; the database refuses it too.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    recipient        TEXT NOT NULL,
    notice           TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_by       TEXT,
    claimed_until    INTEGER,
    sent_at          INTEGER,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
