DROP INDEX CONCURRENTLY "apikey_account_id_id";
