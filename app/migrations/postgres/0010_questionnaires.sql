-- Questionnaires, visit surveys and education lessons (SPEC R-QST-1 … R-QST-4): forms and their
-- versions (FHIR R4 Questionnaire, the supported subset), assignments to patients with the
-- version they are answered on, drafts and submitted answers, and the survey preference with
-- its history.
-- Kept in step with ../sqlite/0010_questionnaires.sql.

-- A form of the library; its content lives in its versions.
CREATE TABLE questionnaire_forms (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('questionnaire', 'survey', 'lesson')),
    title       TEXT NOT NULL,                       -- the latest version's title
    sample      TEXT UNIQUE,                         -- a shipped sample's name, once loaded
    created_at  BIGINT NOT NULL,
    created_by  TEXT REFERENCES users (id)
);

-- A published version: never changed; a new import of the form makes the next version.
CREATE TABLE questionnaire_versions (
    id           TEXT PRIMARY KEY,
    form_id      TEXT NOT NULL REFERENCES questionnaire_forms (id),
    version      BIGINT NOT NULL,
    content      TEXT NOT NULL,                      -- the parsed form (the portal's model, JSON)
    source       TEXT NOT NULL,                      -- the Questionnaire JSON as imported
    published_at BIGINT NOT NULL,
    published_by TEXT REFERENCES users (id),
    UNIQUE (form_id, version)
);

-- A form given to a patient, pinned to the version current when it was assigned. The draft is
-- the text as typed (JSON); answers are set once, on submission, and never change afterwards.
CREATE TABLE questionnaire_assignments (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    form_id      TEXT NOT NULL REFERENCES questionnaire_forms (id),
    version_id   TEXT NOT NULL REFERENCES questionnaire_versions (id),
    kind         TEXT NOT NULL CHECK (kind IN ('questionnaire', 'survey', 'lesson')),
    due_date     TEXT,                               -- YYYY-MM-DD
    note         TEXT,
    assigned_at  BIGINT NOT NULL,
    assigned_by  TEXT NOT NULL REFERENCES users (id),
    state        TEXT NOT NULL CHECK (state IN ('waiting', 'in_progress', 'submitted')),
    draft        TEXT,
    saved_at     BIGINT,
    answers      TEXT,
    result       TEXT,                               -- lessons: 'acknowledged' or 'R of N'
    submitted_at BIGINT
);
CREATE INDEX questionnaire_assignments_by_patient ON questionnaire_assignments (patient_id, assigned_at);
CREATE INDEX questionnaire_assignments_by_form ON questionnaire_assignments (form_id, submitted_at);

-- "Send me visit surveys": absent means on.
CREATE TABLE survey_preferences (
    patient_id  TEXT PRIMARY KEY REFERENCES patients (id),
    surveys     TEXT NOT NULL CHECK (surveys IN ('on', 'off')),
    changed_at  BIGINT NOT NULL
);

CREATE TABLE survey_preference_changes (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    changed_at  BIGINT NOT NULL,
    changed_by  TEXT NOT NULL REFERENCES users (id),
    surveys     TEXT NOT NULL CHECK (surveys IN ('on', 'off'))
);
CREATE INDEX survey_preference_changes_by_patient ON survey_preference_changes (patient_id, changed_at);

-- A refused import, kept so the page can show the JSON again with the reason (not in a URL).
CREATE TABLE questionnaire_import_drafts (
    user_id     TEXT PRIMARY KEY REFERENCES users (id),
    kind        TEXT NOT NULL,
    form_id     TEXT,
    source      TEXT NOT NULL,
    message     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
