-- An account's e-mail address is confirmed (by a link sent to it) before recovery mail (password
-- reset, user-ID reminder) goes to it. Addresses of accounts made before this change, by the
-- `demo` and `staff add` commands or by an activation, are taken as confirmed: they have been in
-- use. Kept in step with ../sqlite/0013_email_confirmation.sql.
ALTER TABLE users ADD COLUMN email_confirmed_at BIGINT;
UPDATE users SET email_confirmed_at = created_at WHERE email IS NOT NULL AND email <> '';
