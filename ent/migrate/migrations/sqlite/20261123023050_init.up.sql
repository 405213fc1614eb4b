-- create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `created_at` datetime NOT NULL, `account_id` text NOT NULL, `name` text NOT NULL, `created_by` text NOT NULL, `member_id` text NULL, `scopes` json NOT NULL, `permissions` json NOT NULL, `masks` json NOT NULL, `secret_hash` blob NOT NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, PRIMARY KEY (`id`));
-- create index "apikey_account_id" to table: "api_keys"
CREATE INDEX `apikey_account_id` ON `api_keys` (`account_id`);
-- create index "apikey_member_id" to table: "api_keys"
CREATE INDEX `apikey_member_id` ON `api_keys` (`member_id`);
-- create "accounts" table
CREATE TABLE `accounts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `slug` text NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `role_assignment` text NOT NULL DEFAULT ('MULTIPLE'), `default_access_excludes` json NOT NULL, `custom_roles` bool NOT NULL DEFAULT (true), `resource_constraints` bool NOT NULL DEFAULT (false), `template` text NULL, PRIMARY KEY (`id`));
-- create index "accounts_slug_key" to table: "accounts"
CREATE UNIQUE INDEX `accounts_slug_key` ON `accounts` (`slug`);
-- create "assignments" table
CREATE TABLE `assignments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `account_id` text NOT NULL, `member_id` text NOT NULL, `role_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `assignments_members_assignments` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `assignments_roles_assignments` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON DELETE NO ACTION);
-- create index "assignment_member_id_role_id" to table: "assignments"
CREATE UNIQUE INDEX `assignment_member_id_role_id` ON `assignments` (`member_id`, `role_id`);
-- create index "assignment_role_id" to table: "assignments"
CREATE INDEX `assignment_role_id` ON `assignments` (`role_id`);
-- create index "assignment_account_id" to table: "assignments"
CREATE INDEX `assignment_account_id` ON `assignments` (`account_id`);
-- create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `created_at` datetime NOT NULL, `account_id` text NOT NULL DEFAULT (''), `actor_type` text NOT NULL, `actor_id` text NOT NULL, `actor_label` text NOT NULL DEFAULT (''), `action` text NOT NULL, `target_type` text NOT NULL DEFAULT (''), `target_id` text NOT NULL DEFAULT (''), `changes` json NULL, `request_id` text NOT NULL DEFAULT (''), `client_addr` text NOT NULL DEFAULT (''), `seq` integer NOT NULL, `prev_hash` text NOT NULL DEFAULT (''), `hash` text NOT NULL, PRIMARY KEY (`id`));
-- create index "auditevent_account_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_account_id_created_at` ON `audit_events` (`account_id`, `created_at`);
-- create index "auditevent_account_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX `auditevent_account_id_seq` ON `audit_events` (`account_id`, `seq`);
-- create "members" table
CREATE TABLE `members` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `account_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `members_accounts_members` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION, CONSTRAINT `members_users_memberships` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- create index "member_account_id_user_id" to table: "members"
CREATE UNIQUE INDEX `member_account_id_user_id` ON `members` (`account_id`, `user_id`);
-- create "operator_keys" table
CREATE TABLE `operator_keys` (`id` text NOT NULL, `created_at` datetime NOT NULL, `name` text NOT NULL DEFAULT (''), `secret_hash` blob NOT NULL, `revoked_at` datetime NULL, PRIMARY KEY (`id`));
-- create "permissions" table
CREATE TABLE `permissions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `description` text NOT NULL DEFAULT (''), `group` text NOT NULL DEFAULT (''), `kind` text NOT NULL DEFAULT ('GRANT'), `implies` json NULL, `built_in` bool NOT NULL DEFAULT (false), PRIMARY KEY (`id`));
-- create index "permissions_key_key" to table: "permissions"
CREATE UNIQUE INDEX `permissions_key_key` ON `permissions` (`key`);
-- create "roles" table
CREATE TABLE `roles` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `kind` text NOT NULL DEFAULT ('CUSTOM'), `grants` json NOT NULL, `constraints` json NULL, `version` integer NOT NULL DEFAULT (1), `position` integer NOT NULL DEFAULT (0), `account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `roles_accounts_roles` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE NO ACTION);
-- create index "role_account_id_key" to table: "roles"
CREATE UNIQUE INDEX `role_account_id_key` ON `roles` (`account_id`, `key`);
-- create "scopes" table
CREATE TABLE `scopes` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `account_id` text NOT NULL, `key` text NOT NULL, `description` text NOT NULL DEFAULT (''), `grants` json NOT NULL, PRIMARY KEY (`id`));
-- create index "scope_account_id_key" to table: "scopes"
CREATE UNIQUE INDEX `scope_account_id_key` ON `scopes` (`account_id`, `key`);
-- create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `name` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- create "account_permissions" table
CREATE TABLE `account_permissions` (`account_id` text NOT NULL, `permission_id` text NOT NULL, PRIMARY KEY (`account_id`, `permission_id`), CONSTRAINT `account_permissions_account_id` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE, CONSTRAINT `account_permissions_permission_id` FOREIGN KEY (`permission_id`) REFERENCES `permissions` (`id`) ON DELETE CASCADE);
