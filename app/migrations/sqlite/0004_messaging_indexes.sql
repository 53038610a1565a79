-- The open-message indexes of 0003 covered every message without a handled time: staff
-- messages too, which are never handled. The inbox (patients' open messages for a provider or
-- their pools, soonest due first) walked them all: with 1,000 patients x 50 messages, 25,000
-- staff messages read to find a few hundred open ones (scripts/bench, /staff/messages). Every
-- query on these indexes also asks for author_kind = 'patient'.
-- Kept in step with ../postgres/0004_messaging_indexes.sql.

DROP INDEX messages_open_by_provider;
DROP INDEX messages_open_by_pool;
CREATE INDEX messages_open_by_provider ON messages (assigned_provider_id, due_at) WHERE handled_at IS NULL AND author_kind = 'patient';
CREATE INDEX messages_open_by_pool ON messages (assigned_pool_id, due_at) WHERE handled_at IS NULL AND author_kind = 'patient';
