-- The audit log's pages (created_at, then id) and their counts, from the
-- index alone (L3, issue 13). CONCURRENTLY, alone in its file (it cannot run
-- in a transaction): the servers still running keep writing while it builds.
CREATE INDEX CONCURRENTLY "auditevent_account_id_created_at_id" ON "audit_events" ("account_id", "created_at", "id");
