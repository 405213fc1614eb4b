-- modify "audit_events" table: txid is PostgreSQL's; SQLite's change feed reads by rowid
ALTER TABLE `audit_events` ADD COLUMN `txid` integer NULL;
-- create index "auditevent_txid" to table: "audit_events"
CREATE INDEX `auditevent_txid` ON `audit_events` (`txid`);
