-- The staff inbox at hospital scale (issue 16: 5 million messages; 300 open for a clinician,
-- 2,000 for a pool). The indexes of 0004 found the open messages, but each one found was then
-- read from the table for its due and sent times, id, thread and assignee: 2,000 reads in a
-- 5-million-row table for one page of the nurse line's 50 (and all 2,300 open messages for Dr.
-- Lee's, whose "his or his pools'" condition SQLite could serve from one index only). These hold
-- all the inbox reads of an open message, in its order (due, sent, id), so a page, the counts and
-- every filter read the index alone; they stay small, holding only patients' open messages.
-- Kept in step with ../sqlite/0023_inbox_covering_indexes.sql.

DROP INDEX messages_open_by_provider;
DROP INDEX messages_open_by_pool;
CREATE INDEX messages_open_by_provider ON messages (assigned_provider_id, due_at, sent_at, id, staff_opened_at, thread_id, assigned_pool_id)
    WHERE author_kind = 'patient' AND handled_at IS NULL;
CREATE INDEX messages_open_by_pool ON messages (assigned_pool_id, due_at, sent_at, id, staff_opened_at, assigned_provider_id, thread_id)
    WHERE author_kind = 'patient' AND handled_at IS NULL;

-- PostgreSQL alone: its planner takes author_kind and handled_at for independent, but staff
-- messages are never handled, so it took a quarter of all messages for open: 43,559 rows for Dr.
-- Lee's 300 at 500,000 messages, for which it sent two parallel workers after a few hundred index
-- entries. Statistics of the two columns together give it the real share, if the open patients'
-- messages are common enough in ANALYZE's sample to be kept: at 5 million messages, a few thousand
-- of them open, the default sample (30,000 rows) keeps them out (1,250,664 rows estimated for 1,151
-- on a test table of that size); a target of 1000 (300,000 rows) keeps them in (1,017 estimated),
-- and its ANALYZE took 4.3 s there. ANALYZE now: autovacuum would wait until a tenth of the table
-- changed.
CREATE STATISTICS messages_kind_handled (mcv) ON author_kind, handled_at FROM messages;
ALTER STATISTICS messages_kind_handled SET STATISTICS 1000;
ANALYZE messages;
