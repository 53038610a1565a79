-- Issue 14, point 11: a notice is given up after a bounded number of tries (its secret wiped),
-- and the security page lists it.
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
CREATE INDEX outbox_given_up ON outbox (failed_at) WHERE failed_at IS NOT NULL;
