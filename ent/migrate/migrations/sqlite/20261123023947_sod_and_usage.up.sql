-- create "sod_rules" table
CREATE TABLE `sod_rules` (`id` text NOT NULL, `created_at` datetime NOT NULL, `account_id` text NOT NULL, `name` text NOT NULL, `permissions` json NOT NULL, `level` text NOT NULL, `mode` text NOT NULL, PRIMARY KEY (`id`));
-- create index "sodrule_account_id" to table: "sod_rules"
CREATE INDEX `sodrule_account_id` ON `sod_rules` (`account_id`);
-- create "usages" table
CREATE TABLE `usages` (`id` text NOT NULL, `account_id` text NOT NULL, `subject_id` text NOT NULL, `permission` text NOT NULL, `last_used_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "usage_subject_id_permission" to table: "usages"
CREATE UNIQUE INDEX `usage_subject_id_permission` ON `usages` (`subject_id`, `permission`);
-- create index "usage_account_id_last_used_at" to table: "usages"
CREATE INDEX `usage_account_id_last_used_at` ON `usages` (`account_id`, `last_used_at`);
