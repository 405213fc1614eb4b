CREATE INDEX CONCURRENTLY "auditevent_account_id_created_at" ON "audit_events" ("account_id", "created_at");
