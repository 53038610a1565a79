-- Minimum necessary and bounded writes (issue 14, points 3, 5 and 14).
-- Kept in step with ../sqlite/0014_minimum_necessary.sql.

-- Whether a pool does clinical work (a nurse line) or not (billing questions, the front desk).
-- Clinicians who work a clinical pool on a patient's care team read that patient's clinical
-- conversations; a conversation addressed, routed or forwarded to a clinical pool is clinical.
-- Existing pools: clinical when they have members and every member is a clinician (such a pool
-- does clinical work, and the care team's clinicians already read its conversations); any other
-- pool (a billing or front-desk member, or no member yet) starts non-clinical, which only narrows
-- who reads what, until an administrator says otherwise on the pools page.
ALTER TABLE care_pools ADD COLUMN clinical TEXT NOT NULL DEFAULT 'no' CHECK (clinical IN ('yes', 'no'));
UPDATE care_pools SET clinical = 'yes'
WHERE EXISTS (SELECT 1 FROM pool_members m WHERE m.pool_id = care_pools.id)
  AND NOT EXISTS (
    SELECT 1 FROM pool_members m JOIN users u ON u.id = m.user_id
    WHERE m.pool_id = care_pools.id AND (u.staff_role IS NULL OR u.staff_role <> 'clinician')
  );

-- A patient's messages per day and attachment bytes per month are counted from their own
-- messages by send time.
CREATE INDEX messages_by_author ON messages (author_id, sent_at);

-- Staff (front desk, administrators) lifting a patient's message limits for a day: from
-- lifted_at until ends_at, only what the patient sends after lifted_at counts. Never changed.
CREATE TABLE message_quota_lifts (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    lifted_by   TEXT NOT NULL REFERENCES users (id),
    lifted_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    CHECK (ends_at > lifted_at)
);
CREATE INDEX message_quota_lifts_by_patient ON message_quota_lifts (patient_id, ends_at);

-- Break-the-glass: a clinician outside a patient's care team who gave a reason to read the
-- patient's questionnaire answers, until expires_at. Never changed; shown on the security page.
CREATE TABLE break_glass_accesses (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    reason      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    CHECK (expires_at > at)
);
CREATE INDEX break_glass_by_user ON break_glass_accesses (user_id, patient_id, expires_at);
CREATE INDEX break_glass_by_time ON break_glass_accesses (at);
