-- The index apikey_account_id_id replaces.
DROP INDEX CONCURRENTLY "apikey_account_id";
