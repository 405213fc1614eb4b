-- reverse: create index "usage_subject_id_permission" to table: "usages"
DROP INDEX "usage_subject_id_permission";
-- reverse: create index "usage_account_id_last_used_at" to table: "usages"
DROP INDEX "usage_account_id_last_used_at";
-- reverse: create "usages" table
DROP TABLE "usages";
-- reverse: create index "sodrule_account_id" to table: "sod_rules"
DROP INDEX "sodrule_account_id";
-- reverse: create "sod_rules" table
DROP TABLE "sod_rules";
