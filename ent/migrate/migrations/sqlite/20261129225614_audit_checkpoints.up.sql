-- create "audit_checkpoints" table
CREATE TABLE `audit_checkpoints` (`id` text NOT NULL, `account_id` text NOT NULL DEFAULT (''), `from_seq` integer NOT NULL, `to_seq` integer NOT NULL, `hashes` json NOT NULL, `signed_at` datetime NOT NULL, `key_id` text NOT NULL, `signature` text NOT NULL, PRIMARY KEY (`id`));
-- create index "auditcheckpoint_account_id_to_seq" to table: "audit_checkpoints"
CREATE UNIQUE INDEX `auditcheckpoint_account_id_to_seq` ON `audit_checkpoints` (`account_id`, `to_seq`);
-- create index "auditcheckpoint_account_id_from_seq" to table: "audit_checkpoints"
CREATE INDEX `auditcheckpoint_account_id_from_seq` ON `audit_checkpoints` (`account_id`, `from_seq`);
