-- reverse: create index "auditevent_txid" to table: "audit_events"
DROP INDEX "auditevent_txid";
-- reverse: modify "audit_events" table
ALTER TABLE "audit_events" DROP COLUMN "txid";
