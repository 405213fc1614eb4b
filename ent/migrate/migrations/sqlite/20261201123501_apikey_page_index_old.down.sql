CREATE INDEX `apikey_account_id` ON `api_keys` (`account_id`);
