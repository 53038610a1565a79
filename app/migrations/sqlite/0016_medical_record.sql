-- My Medical Record (SPEC R-REC-1, R-REC-2): the link from a portal patient to their FHIR
-- Patient in the EHR, and the embedded record source (the portal's own copy of FHIR resources,
-- for a portal that runs without an EHR to ask).
-- Kept in step with ../postgres/0017_medical_record.sql.

-- Which FHIR Patient a portal patient is: set by staff on the patient's page, or matched once by
-- record number (an identifier search) and remembered. Ids only: nothing clinical.
-- One FHIR Patient belongs to at most one portal patient, so no one can be shown another's record.
CREATE TABLE record_links (
    patient_id       TEXT PRIMARY KEY REFERENCES patients (id),
    fhir_patient_id  TEXT NOT NULL UNIQUE,
    how              TEXT NOT NULL CHECK (how IN ('staff', 'record-number')),
    linked_at        INTEGER NOT NULL,
    linked_by        TEXT REFERENCES users (id)          -- the member of staff; none when matched
);

-- The embedded source: FHIR R4 resources as imported (`server record import`, the demo), one
-- row per resource, replaced when the same type and id are imported again. Clinical resources
-- carry the FHIR Patient they are about; shared ones (practitioners, places, medications) none.
-- This is the documented exception to "nothing clinical on the web tier" (R-GEN-4): with no EHR
-- to ask, this table IS the EHR's copy. The remote source stores nothing here.
CREATE TABLE record_resources (
    resource_type    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    fhir_patient_id  TEXT,
    content          TEXT NOT NULL,                     -- the resource's JSON
    loaded_at        INTEGER NOT NULL,
    PRIMARY KEY (resource_type, resource_id)
);
CREATE INDEX record_resources_by_patient ON record_resources (fhir_patient_id, resource_type);

-- The identifiers of the embedded Patients (record numbers), for matching by record number.
CREATE TABLE record_patient_identifiers (
    system           TEXT NOT NULL,
    value            TEXT NOT NULL,
    fhir_patient_id  TEXT NOT NULL,
    PRIMARY KEY (system, value, fhir_patient_id)
);
CREATE INDEX record_patient_identifiers_by_patient ON record_patient_identifiers (fhir_patient_id);
