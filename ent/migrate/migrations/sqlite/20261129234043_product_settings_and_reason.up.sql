-- modify "accounts" table: new-member roles, the fewest roles per member, and
-- the permission custom roles need (M2, A3). Null new_member_roles: accounts
-- created before it was a setting, which give default_access.
ALTER TABLE `accounts` ADD COLUMN `new_member_roles` json NULL;
ALTER TABLE `accounts` ADD COLUMN `min_roles_per_member` integer NOT NULL DEFAULT (0);
ALTER TABLE `accounts` ADD COLUMN `custom_roles_permission` text NOT NULL DEFAULT ('');
-- modify "audit_events" table: why a change was made. ADD COLUMN keeps the
-- table, and so its append-only triggers (a rebuild would drop them).
ALTER TABLE `audit_events` ADD COLUMN `reason` text NOT NULL DEFAULT ('');
-- Existing accounts keep what they gave new members, but those of the
-- templates whose documents give new members nothing (least privilege, M2).
UPDATE `accounts` SET `new_member_roles` = '[]' WHERE `template` IN ('basic', 'convrs', 'truerecord', 'truthlocks');
UPDATE `accounts` SET `new_member_roles` = '["default_access"]' WHERE `new_member_roles` IS NULL;
