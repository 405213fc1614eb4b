-- modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "txid" bigint NULL DEFAULT ((pg_current_xact_id())::text)::bigint;
-- create index "auditevent_txid" to table: "audit_events"
CREATE INDEX "auditevent_txid" ON "audit_events" ("txid");
