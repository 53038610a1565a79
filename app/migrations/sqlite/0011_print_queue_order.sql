-- The print queue in commit order. A statement's posted_at is when its request began, so a
-- statement committed after the print queue page was listed could carry an older posted_at and
-- be marked printed unseen. queue_position is taken from print_queue_counter as the last write of
-- the posting transaction; the counter's row lock is held until commit, so positions become
-- visible in order: a page that lists position n has seen every position below it.
ALTER TABLE statements ADD COLUMN queue_position INTEGER;
UPDATE statements SET queue_position = (
    SELECT COUNT(*) FROM statements earlier
    WHERE earlier.posted_at < statements.posted_at OR (earlier.posted_at = statements.posted_at AND earlier.id <= statements.id)
);
CREATE TABLE print_queue_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO print_queue_counter (id, last) SELECT 1, COALESCE(MAX(queue_position), 0) FROM statements;
DROP INDEX statements_print_queue;
CREATE INDEX statements_print_queue ON statements (queue_position) WHERE delivery = 'paper' AND printed_at IS NULL;
