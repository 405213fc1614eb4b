-- The index apikey_account_id_id replaces.
DROP INDEX `apikey_account_id`;
