-- Secure messaging (SPEC R-MSG-1 … R-MSG-7): care teams and pools, providers' absences with
-- their cover, the organisation's holidays, threads, messages (never updated in what they
-- say: only their routing, read and handled state change), attachments, drafts, the routing
-- history, and each patient's choice of immediate or daily e-mail notices.
-- Kept in step with ../postgres/0003_messaging.sql.

-- A shared inbox that several staff members work, e.g. "Nurse line", "Billing questions".
CREATE TABLE care_pools (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);

CREATE TABLE pool_members (
    pool_id   TEXT NOT NULL REFERENCES care_pools (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (pool_id, user_id)
);
CREATE INDEX pool_members_by_user ON pool_members (user_id);

-- Who serves a patient: providers (staff users) and pools. A patient writes only to these.
CREATE TABLE care_team (
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    provider_id  TEXT REFERENCES users (id),
    pool_id      TEXT REFERENCES care_pools (id),
    added_at     INTEGER NOT NULL,
    added_by     TEXT REFERENCES users (id),
    CHECK ((provider_id IS NULL) <> (pool_id IS NULL))
);
CREATE UNIQUE INDEX care_team_provider ON care_team (patient_id, provider_id) WHERE provider_id IS NOT NULL;
CREATE UNIQUE INDEX care_team_pool ON care_team (patient_id, pool_id) WHERE pool_id IS NOT NULL;
CREATE INDEX care_team_by_provider ON care_team (provider_id);
CREATE INDEX care_team_by_pool ON care_team (pool_id);

-- A provider's out-of-office period and who covers it (a provider or a pool).
CREATE TABLE absences (
    id                 TEXT PRIMARY KEY,
    provider_id        TEXT NOT NULL REFERENCES users (id),
    starts_at          INTEGER NOT NULL,
    ends_at            INTEGER NOT NULL,
    cover_provider_id  TEXT REFERENCES users (id),
    cover_pool_id      TEXT REFERENCES care_pools (id),
    note               TEXT NOT NULL DEFAULT '',
    created_at         INTEGER NOT NULL,
    created_by         TEXT REFERENCES users (id),
    -- when the messages already waiting for the provider were re-routed to the cover
    rerouted_at        INTEGER,
    cancelled_at       INTEGER,
    CHECK (ends_at > starts_at),
    CHECK ((cover_provider_id IS NULL) <> (cover_pool_id IS NULL))
);
CREATE INDEX absences_by_provider ON absences (provider_id, starts_at);
CREATE INDEX absences_to_reroute ON absences (starts_at) WHERE rerouted_at IS NULL AND cancelled_at IS NULL;

-- Days the organisation is closed (besides weekends), in its own calendar.
CREATE TABLE holidays (
    day       TEXT PRIMARY KEY,                        -- YYYY-MM-DD
    name      TEXT NOT NULL,
    added_at  INTEGER NOT NULL,
    added_by  TEXT REFERENCES users (id)
);

CREATE TABLE threads (
    id               TEXT PRIMARY KEY,
    patient_id       TEXT NOT NULL REFERENCES patients (id),
    topic            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    last_message_at  INTEGER NOT NULL
);
CREATE INDEX threads_by_patient ON threads (patient_id, last_message_at);

-- One message. What it says (author, body, time, addressee, due date) never changes; the
-- application has no statement that updates those columns or deletes a row.
CREATE TABLE messages (
    id                   TEXT PRIMARY KEY,
    thread_id            TEXT NOT NULL REFERENCES threads (id),
    author_id            TEXT NOT NULL REFERENCES users (id),
    author_kind          TEXT NOT NULL CHECK (author_kind IN ('patient', 'staff')),
    body                 TEXT NOT NULL,
    sent_at              INTEGER NOT NULL,
    -- From a patient: whom they wrote to, where it is now (after routing or forwarding), when
    -- a reply is due, and when staff marked it handled.
    to_provider_id       TEXT REFERENCES users (id),
    to_pool_id           TEXT REFERENCES care_pools (id),
    assigned_provider_id TEXT REFERENCES users (id),
    assigned_pool_id     TEXT REFERENCES care_pools (id),
    due_at               INTEGER,
    staff_opened_at      INTEGER,
    handled_at           INTEGER,
    handled_by           TEXT REFERENCES users (id),
    -- From staff: when the patient first read it.
    read_at              INTEGER
);
CREATE INDEX messages_by_thread ON messages (thread_id, sent_at);
CREATE INDEX messages_open_by_provider ON messages (assigned_provider_id, due_at) WHERE handled_at IS NULL;
CREATE INDEX messages_open_by_pool ON messages (assigned_pool_id, due_at) WHERE handled_at IS NULL;
CREATE INDEX messages_unread_by_patient ON messages (thread_id) WHERE read_at IS NULL AND author_kind = 'staff';

-- Every change of where a patient's message waits, and why.
CREATE TABLE message_routes (
    id                 TEXT PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages (id),
    at                 INTEGER NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('absence', 'forward')),
    from_provider_id   TEXT REFERENCES users (id),
    from_pool_id       TEXT REFERENCES care_pools (id),
    to_provider_id     TEXT REFERENCES users (id),
    to_pool_id         TEXT REFERENCES care_pools (id),
    reason             TEXT NOT NULL,
    by_user_id         TEXT REFERENCES users (id)      -- none: the portal routed it
);
CREATE INDEX message_routes_by_message ON message_routes (message_id, at);

CREATE TABLE attachments (
    id            TEXT PRIMARY KEY,
    message_id    TEXT NOT NULL REFERENCES messages (id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,                       -- as found from the content
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    content       BLOB NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);

-- A patient's unsent message: a new one (no thread) or a reply (one per thread).
CREATE TABLE message_drafts (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    thread_id     TEXT REFERENCES threads (id),
    recipient     TEXT NOT NULL DEFAULT '',
    topic         TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_drafts_one_new ON message_drafts (user_id) WHERE thread_id IS NULL;
CREATE UNIQUE INDEX message_drafts_one_per_thread ON message_drafts (user_id, thread_id) WHERE thread_id IS NOT NULL;

-- 'immediate': a notice for each new thing; 'daily': one notice a day when anything is new.
ALTER TABLE users ADD COLUMN notices TEXT NOT NULL DEFAULT 'immediate' CHECK (notices IN ('immediate', 'daily'));
