-- The account's API keys page, in id order, and its count, from the index alone (S2, issue 13).
CREATE INDEX `apikey_account_id_id` ON `api_keys` (`account_id`, `id`);
