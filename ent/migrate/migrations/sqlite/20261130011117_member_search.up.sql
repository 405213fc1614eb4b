-- Member search (dashboards): the users' emails and names copied to their
-- memberships, when each member last used a permission (the Unix epoch for
-- never), and an index per sort order of an account's member list. Written
-- by hand as ADD COLUMN: no rebuild of the table.
ALTER TABLE `members` ADD COLUMN `email` text NOT NULL DEFAULT '';
ALTER TABLE `members` ADD COLUMN `name` text NOT NULL DEFAULT '';
ALTER TABLE `members` ADD COLUMN `last_active_at` datetime NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
UPDATE `members` SET `email` = (SELECT `email` FROM `users` WHERE `users`.`id` = `members`.`user_id`), `name` = (SELECT `name` FROM `users` WHERE `users`.`id` = `members`.`user_id`);
UPDATE `members` SET `last_active_at` = coalesce((SELECT max(`last_used_at`) FROM `usages` WHERE `usages`.`subject_id` = `members`.`id`), `last_active_at`);
CREATE INDEX `member_account_id_created_at` ON `members` (`account_id`, `created_at`);
CREATE INDEX `member_account_id_email` ON `members` (`account_id`, `email`);
CREATE INDEX `member_account_id_last_active_at` ON `members` (`account_id`, `last_active_at`);
CREATE INDEX `member_account_id_name` ON `members` (`account_id`, `name`);
CREATE INDEX `member_account_id_status` ON `members` (`account_id`, `status`);
