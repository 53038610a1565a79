-- My Medical Record, release (SPEC R-REC-3, R-REC-4; issue 15). Kept in step with
-- ../sqlite/0020_record_release.sql.

-- Codes of results that state law requires to be given in person (e.g. LOINC codes of HIV or
-- genetic tests): administrators keep the list on /staff/record/hidden-codes; a result
-- (Observation or DiagnosticReport, or a panel's member) with one of these codes is never shown
-- to the patient. Codes and a label, nothing about any patient.
CREATE TABLE record_hidden_codes (
    id           TEXT PRIMARY KEY,
    code_system  TEXT NOT NULL,
    code         TEXT NOT NULL,
    label        TEXT NOT NULL,
    added_at     BIGINT NOT NULL,
    added_by     TEXT NOT NULL REFERENCES users (id)
);
CREATE UNIQUE INDEX record_hidden_codes_code ON record_hidden_codes (code_system, code);

-- The patient's own choice of when new results show: 'now' (as soon as available, the
-- default, also when there is no row), 'reviewed' (after their clinician has reviewed them) or
-- 'days' (delay_days after they are ready).
CREATE TABLE record_release (
    patient_id  TEXT PRIMARY KEY REFERENCES patients (id),
    choice      TEXT NOT NULL,
    delay_days  BIGINT,
    changed_at  BIGINT NOT NULL
);

-- New-result notices: up to when the patient was told (results visible since after this time
-- are new to tell) and when the last notice was sent (at most one a day). Times only.
CREATE TABLE record_notices (
    patient_id    TEXT PRIMARY KEY REFERENCES patients (id),
    told_through  BIGINT NOT NULL,
    last_sent_at  BIGINT
);
