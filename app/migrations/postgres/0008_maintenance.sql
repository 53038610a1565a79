-- Maintenance windows (SPEC R-GEN-1): scheduled by administrators; patients see a notice ahead
-- of a window and a maintenance page (HTTP 503) during it. Stored here, not in a server's
-- memory, so that every app server behind the load balancer agrees on them.
-- Kept in step with ../sqlite/0008_maintenance.sql.

CREATE TABLE maintenance_windows (
    id           TEXT PRIMARY KEY,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    message      TEXT NOT NULL,                   -- shown to patients: no personal data
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users (id),
    -- A cancelled window (or one ended early: cancelled while in progress) keeps its row.
    cancelled_at BIGINT,
    cancelled_by TEXT REFERENCES users (id),
    CHECK (ends_at > starts_at)
);
-- Every server looks up the windows that have not ended yet (a few seconds apart).
CREATE INDEX maintenance_windows_by_end ON maintenance_windows (ends_at);
