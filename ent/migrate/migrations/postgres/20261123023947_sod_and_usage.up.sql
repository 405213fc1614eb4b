-- create "sod_rules" table
CREATE TABLE "sod_rules" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "name" character varying NOT NULL, "permissions" jsonb NOT NULL, "level" character varying NOT NULL, "mode" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "sodrule_account_id" to table: "sod_rules"
CREATE INDEX "sodrule_account_id" ON "sod_rules" ("account_id");
-- create "usages" table
CREATE TABLE "usages" ("id" character varying NOT NULL, "account_id" character varying NOT NULL, "subject_id" character varying NOT NULL, "permission" character varying NOT NULL, "last_used_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "usage_account_id_last_used_at" to table: "usages"
CREATE INDEX "usage_account_id_last_used_at" ON "usages" ("account_id", "last_used_at");
-- create index "usage_subject_id_permission" to table: "usages"
CREATE UNIQUE INDEX "usage_subject_id_permission" ON "usages" ("subject_id", "permission");
