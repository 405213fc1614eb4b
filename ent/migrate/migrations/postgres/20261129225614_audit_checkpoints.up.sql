-- create "audit_checkpoints" table
CREATE TABLE "audit_checkpoints" ("id" character varying NOT NULL, "account_id" character varying NOT NULL DEFAULT '', "from_seq" bigint NOT NULL, "to_seq" bigint NOT NULL, "hashes" jsonb NOT NULL, "signed_at" timestamptz NOT NULL, "key_id" character varying NOT NULL, "signature" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "auditcheckpoint_account_id_from_seq" to table: "audit_checkpoints"
CREATE INDEX "auditcheckpoint_account_id_from_seq" ON "audit_checkpoints" ("account_id", "from_seq");
-- create index "auditcheckpoint_account_id_to_seq" to table: "audit_checkpoints"
CREATE UNIQUE INDEX "auditcheckpoint_account_id_to_seq" ON "audit_checkpoints" ("account_id", "to_seq");
