-- The staff inbox at hospital scale (issue 16: 5 million messages; 300 open for a clinician,
-- 2,000 for a pool). The indexes of 0004 found the open messages, but each one found was then
-- read from the table for its due and sent times, id, thread and assignee: 2,000 reads in a
-- 5-million-row table for one page of the nurse line's 50 (and all 2,300 open messages for Dr.
-- Lee's, whose "his or his pools'" condition SQLite could serve from one index only). These hold
-- all the inbox reads of an open message, in its order (due, sent, id), so a page, the counts and
-- every filter read the index alone; they stay small, holding only patients' open messages.
-- Kept in step with ../postgres/0023_inbox_covering_indexes.sql.

DROP INDEX messages_open_by_provider;
DROP INDEX messages_open_by_pool;
CREATE INDEX messages_open_by_provider ON messages (assigned_provider_id, due_at, sent_at, id, staff_opened_at, thread_id, assigned_pool_id)
    WHERE author_kind = 'patient' AND handled_at IS NULL;
CREATE INDEX messages_open_by_pool ON messages (assigned_pool_id, due_at, sent_at, id, staff_opened_at, assigned_provider_id, thread_id)
    WHERE author_kind = 'patient' AND handled_at IS NULL;
