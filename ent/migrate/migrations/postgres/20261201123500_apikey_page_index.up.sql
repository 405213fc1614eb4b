-- The account's API keys page, in id order, and its count, from the index alone (S2, issue 13).
-- CONCURRENTLY, alone in its file: the servers still running keep writing.
CREATE INDEX CONCURRENTLY "apikey_account_id_id" ON "api_keys" ("account_id", "id");
