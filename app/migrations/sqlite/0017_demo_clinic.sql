-- Issue 14, point 15: `server demo` loads the demo clinic (accounts with one published password)
-- only into a database that is the demo clinic's: empty when it first ran, marked then.
CREATE TABLE demo_clinic (
    loaded_at  INTEGER NOT NULL
);

-- A database the demo was loaded into before the mark existed: every demo account is there.
INSERT INTO demo_clinic (loaded_at)
SELECT MIN(created_at) FROM users
WHERE login IN ('alice', 'robert', 'carol', 'frontdesk', 'drlee', 'nursekim', 'billing', 'admin', 'auditor')
HAVING COUNT(*) = 9;
