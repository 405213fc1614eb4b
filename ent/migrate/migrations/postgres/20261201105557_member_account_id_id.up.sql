-- The members list's default order, by id within the account (issue 13).
-- CONCURRENTLY, alone in its file (it cannot run in a transaction): the
-- servers still running keep writing while it builds.
CREATE INDEX CONCURRENTLY "member_account_id_id" ON "members" ("account_id", "id");
