-- reverse: create index "auditcheckpoint_account_id_from_seq" to table: "audit_checkpoints"
DROP INDEX `auditcheckpoint_account_id_from_seq`;
-- reverse: create index "auditcheckpoint_account_id_to_seq" to table: "audit_checkpoints"
DROP INDEX `auditcheckpoint_account_id_to_seq`;
-- reverse: create "audit_checkpoints" table
DROP TABLE `audit_checkpoints`;
