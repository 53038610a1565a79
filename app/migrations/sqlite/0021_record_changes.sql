-- New-result notices from the remote record source (SPEC R-REC-4; issue 15). Kept in step with
-- ../postgres/0021_record_changes.sql.

-- Where the EHR's feed of changed results was last read, per result type (Observation,
-- DiagnosticReport): the newest meta.lastUpdated read, as the EHR wrote it (a FHIR instant).
CREATE TABLE record_feed (
    resource_type  TEXT PRIMARY KEY,
    through        TEXT NOT NULL
);

-- Results the EHR created or changed for patients linked to a portal account, and when the
-- portal learned of it (the remote counterpart of record_resources.loaded_at). Ids and times
-- only: the result itself stays in the EHR. version is the change's meta.lastUpdated, so the
-- same change read twice is noted once. Rows older than 90 days are removed.
CREATE TABLE record_changes (
    fhir_patient_id  TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    version          TEXT NOT NULL,
    changed_at       INTEGER NOT NULL,
    PRIMARY KEY (fhir_patient_id, resource_type, resource_id)
);
CREATE INDEX record_changes_changed_at ON record_changes (changed_at);

-- The new-result job's first look at a patient asks for the newest load time of the embedded
-- record (MAX(loaded_at)): without an index that read the whole table (1.3 s at 2.6 million
-- resources, the benchmark's hospital scale).
CREATE INDEX record_resources_loaded_at ON record_resources (loaded_at);
