-- My Medical Record (SPEC R-REC-1, R-REC-2): which items of the record a patient has seen, so
-- Test Results can mark what is new since their last look. Opaque item ids (a keyed digest of
-- the EHR's id, `record::ItemId`) and the time first seen: nothing clinical.
-- Kept in step with ../sqlite/0019_record_seen.sql.
CREATE TABLE record_seen (
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    item_id     TEXT NOT NULL,
    seen_at     BIGINT NOT NULL,
    PRIMARY KEY (patient_id, item_id)
);
