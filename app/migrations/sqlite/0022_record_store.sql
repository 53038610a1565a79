-- The version of the embedded record store (issue 16). Every change to record_resources raises
-- it in the same transaction (embedded::import, server bench-data); app servers keep parsed
-- records between page views and read a patient's resources again once it has moved
-- (app/src/record/cache.rs). One row. Kept in step with ../postgres/0022_record_store.sql.
CREATE TABLE record_store (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO record_store (id, version) VALUES (1, 0);
