-- Enrolment and the account's whole life: the clinic's patient records, enrolment requests,
-- activation codes, versioned terms and their acceptances, e-mailed account links, rate
-- counters for anonymous forms, and who ended or restored an account's access.
-- Kept in step with ../sqlite/0002_enrolment.sql.

-- The clinic's record of a patient, whether or not they use the portal. A portal account
-- (users.patient_id) is linked to at most one, and one record has at most one account.
CREATE TABLE patients (
    id                  TEXT PRIMARY KEY,
    mrn                 TEXT NOT NULL UNIQUE,          -- medical record number
    given_name          TEXT NOT NULL,
    family_name         TEXT NOT NULL,
    date_of_birth       TEXT NOT NULL,                 -- YYYY-MM-DD
    email               TEXT,
    phone               TEXT,
    statement_delivery  TEXT NOT NULL DEFAULT 'paper' CHECK (statement_delivery IN ('paper', 'paperless')),
    created_at          BIGINT NOT NULL
);
CREATE INDEX patients_by_birth_date ON patients (date_of_birth);

-- Patient accounts take their birth date from the record.
ALTER TABLE users DROP COLUMN date_of_birth;
ALTER TABLE users ADD COLUMN patient_id TEXT REFERENCES patients (id);
-- When "remind me later" was chosen for the current password (cleared by a new password).
ALTER TABLE users ADD COLUMN password_reminded_at BIGINT;
ALTER TABLE users ADD COLUMN access_changed_at BIGINT;
ALTER TABLE users ADD COLUMN access_changed_by TEXT REFERENCES users (id);
ALTER TABLE users ADD COLUMN access_reason TEXT;
CREATE UNIQUE INDEX users_one_per_patient ON users (patient_id) WHERE patient_id IS NOT NULL;

-- A step the user must take before anything else in this session: 'terms',
-- 'password-reminder' (may be put off once) or 'password-required'.
ALTER TABLE sessions ADD COLUMN pending_step TEXT;

CREATE TABLE terms_versions (
    id            TEXT PRIMARY KEY,
    version       BIGINT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    effective_at  BIGINT NOT NULL,
    published_at  BIGINT NOT NULL,
    published_by  TEXT REFERENCES users (id)           -- none: the text shipped with the portal
);

CREATE TABLE terms_acceptances (
    user_id           TEXT NOT NULL REFERENCES users (id),
    terms_version_id  TEXT NOT NULL REFERENCES terms_versions (id),
    accepted_at       BIGINT NOT NULL,
    client_addr       TEXT,
    PRIMARY KEY (user_id, terms_version_id)
);

CREATE TABLE enrolment_requests (
    id                TEXT PRIMARY KEY,
    given_name        TEXT NOT NULL,
    family_name       TEXT NOT NULL,
    date_of_birth     TEXT NOT NULL,
    email             TEXT NOT NULL,
    phone             TEXT,
    mrn               TEXT,
    terms_version_id  TEXT NOT NULL REFERENCES terms_versions (id),
    submitted_at      BIGINT NOT NULL,
    client_addr       TEXT,
    state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'declined')),
    decided_at        BIGINT,
    decided_by        TEXT REFERENCES users (id),
    decline_reason    TEXT,
    patient_id        TEXT REFERENCES patients (id)
);
CREATE INDEX enrolment_requests_by_state ON enrolment_requests (state, submitted_at);
CREATE INDEX enrolment_requests_by_email ON enrolment_requests (email, date_of_birth);

CREATE TABLE activation_codes (
    id                TEXT PRIMARY KEY,
    patient_id        TEXT NOT NULL REFERENCES patients (id),
    code_hash         TEXT NOT NULL UNIQUE,            -- SHA-256 of the normalised code
    enrolment_request_id TEXT REFERENCES enrolment_requests (id),
    issued_at         BIGINT NOT NULL,
    issued_by         TEXT REFERENCES users (id),
    expires_at        BIGINT NOT NULL,
    tries_left        BIGINT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('active', 'used', 'revoked', 'replaced', 'exhausted')),
    ended_at          BIGINT,
    -- After code and birth date matched: the digest of the cookie that carries the patient to
    -- the step where they choose a user ID and password, and until when it is good.
    claim_hash        TEXT UNIQUE,
    claim_expires_at  BIGINT
);
CREATE INDEX activation_codes_by_patient ON activation_codes (patient_id, issued_at);

-- Single-use links sent by e-mail: password reset, user ID reminder, new e-mail address.
CREATE TABLE account_links (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('password-reset', 'user-id-reminder', 'email-change')),
    new_email    TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX account_links_by_user ON account_links (user_id, purpose);

-- Counters behind the limits on anonymous forms (enrolment requests, activation attempts,
-- e-mailed links). `subject` is a client address or a digest, never a name or an address.
CREATE TABLE rate_events (
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX rate_events_by_subject ON rate_events (kind, subject, at);
-- One row per counted subject: taking its row lock serialises that subject's uses.
CREATE TABLE rate_subjects (
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- A notice that carries a link or a code keeps that secret here until it is sent, then the
-- column is cleared.
ALTER TABLE outbox ADD COLUMN payload TEXT;
