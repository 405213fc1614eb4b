DROP INDEX `member_account_id_status`;
DROP INDEX `member_account_id_name`;
DROP INDEX `member_account_id_last_active_at`;
DROP INDEX `member_account_id_email`;
DROP INDEX `member_account_id_created_at`;
ALTER TABLE `members` DROP COLUMN `last_active_at`;
ALTER TABLE `members` DROP COLUMN `name`;
ALTER TABLE `members` DROP COLUMN `email`;
