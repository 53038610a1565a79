-- Telemedicine (SPEC R-GEN-5) and links to other sites (R-GEN-6): video visits staff schedule
-- for a patient, the patient's acknowledgements of a video visit's limitations, and the
-- portal's own signing keys (the key that signs links to other sites lives here so that every
-- app server sharing the database signs and checks with the same one).
-- Kept in step with ../postgres/0009_telemedicine.sql.

-- A video visit: when (UTC milliseconds), with which clinician, and the organisation's join
-- link (https; never the patient's name in it). Cancelled visits stay, marked.
CREATE TABLE video_visits (
    id            TEXT PRIMARY KEY,
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    clinician_id  TEXT NOT NULL REFERENCES users (id),
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    join_url      TEXT NOT NULL,
    scheduled_by  TEXT NOT NULL REFERENCES users (id),
    scheduled_at  INTEGER NOT NULL,
    cancelled_at  INTEGER,
    cancelled_by  TEXT REFERENCES users (id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX video_visits_by_patient ON video_visits (patient_id, starts_at);
CREATE INDEX video_visits_by_start ON video_visits (starts_at);

-- Each time a patient acknowledged the limitations before joining (R-GEN-5): who, when, from
-- where, and which wording they were shown. Never changed.
CREATE TABLE video_visit_acknowledgements (
    id              TEXT PRIMARY KEY,
    visit_id        TEXT NOT NULL REFERENCES video_visits (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    acknowledged_at INTEGER NOT NULL,
    client_addr     TEXT,
    wording         TEXT NOT NULL
);
CREATE INDEX video_visit_acknowledgements_by_visit ON video_visit_acknowledgements (visit_id, acknowledged_at);

-- Secrets the portal makes for itself at first start (hex), one row per use.
CREATE TABLE portal_keys (
    name        TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
