-- create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `created_at` datetime NOT NULL, `account_id` text NOT NULL, `name` text NOT NULL, `created_by` text NOT NULL, `member_id` text NULL, `scopes` json NOT NULL, `permissions` json NOT NULL, `masks` json NOT NULL, `secret_hash` blob NOT NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "apikey_account_id" to table: "api_keys"
CREATE INDEX `apikey_account_id` ON `api_keys` (`account_id`);
-- create index "apikey_member_id" to table: "api_keys"
CREATE INDEX `apikey_member_id` ON `api_keys` (`member_id`);
-- create "scopes" table
CREATE TABLE `scopes` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `account_id` text NOT NULL, `key` text NOT NULL, `description` text NOT NULL DEFAULT (''), `grants` json NOT NULL, PRIMARY KEY (`id`));
-- create index "scope_account_id_key" to table: "scopes"
CREATE UNIQUE INDEX `scope_account_id_key` ON `scopes` (`account_id`, `key`);
