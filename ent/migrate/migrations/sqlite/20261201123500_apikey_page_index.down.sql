DROP INDEX `apikey_account_id_id`;
