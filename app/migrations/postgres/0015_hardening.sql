-- Issue 14, points 4–8: sign-in attempts counted per address (an IPv6 /64 as one), throttled
-- sign-ins counted per window instead of one row each, the audit chain keyed from a recorded
-- entry on, and the leaving-page key no longer in the database.
-- Kept in step with ../sqlite/0015_hardening.sql.

-- The address the per-address limit counts (`platform::rate::address_key`): an IPv4 address as
-- it is, an IPv6 address by its /64. Rows from before keep their IPv4 addresses counted; IPv6
-- ones stop counting (the throttle looks back one hour).
ALTER TABLE sign_in_attempts ADD COLUMN address_key TEXT;
UPDATE sign_in_attempts SET address_key = client_addr WHERE client_addr IS NOT NULL AND client_addr NOT LIKE '%:%';
CREATE INDEX sign_in_attempts_by_address ON sign_in_attempts (address_key, at);
-- For the retention rule (rows older than 30 days are deleted).
CREATE INDEX sign_in_attempts_by_time ON sign_in_attempts (at);

-- Sign-ins refused as throttled, counted: one row per subject and throttle window however many
-- arrive. `scope` says what was throttled: an account on a device (`subject` is the attempt's
-- login_key and device_key) or a client address (`subject` is its address_key). The first
-- refusal of a row is audited; the count is audited when the window has ended (`summarised`).
CREATE TABLE sign_in_refusals (
    window_start  BIGINT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    subject       TEXT NOT NULL,
    login_key     TEXT,                                -- account scope: the keyed digest of the typed user ID
    user_id       TEXT,                                -- account scope: the account, when the user ID named one
    client_addr   TEXT,                                -- the latest refused request's address
    refusals      BIGINT NOT NULL,
    first_at      BIGINT NOT NULL,
    last_at       BIGINT NOT NULL,
    summarised    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (window_start, scope, subject)
);
CREATE INDEX sign_in_refusals_by_time ON sign_in_refusals (last_at);

-- The keyed audit chain: entries from `keyed_from` on are linked by HMAC-SHA256 under a subkey
-- of the secrets key (named by `key_id`, never stored); `keyed_from_mac` binds the starting point
-- and the hash of the entry before it, so neither can be moved without the key. Set at the first
-- start of this version (`audit::anchor_keyed_chain`).
ALTER TABLE audit_head ADD COLUMN key_id TEXT;
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
ALTER TABLE audit_head ADD COLUMN keyed_from_mac TEXT;

-- The leaving page's key is now derived from the secrets key (outside the database).
DELETE FROM portal_keys WHERE name = 'external-links';
