-- reverse: create index "scope_account_id_key" to table: "scopes"
DROP INDEX "scope_account_id_key";
-- reverse: create "scopes" table
DROP TABLE "scopes";
-- reverse: create index "apikey_member_id" to table: "api_keys"
DROP INDEX "apikey_member_id";
-- reverse: create index "apikey_account_id" to table: "api_keys"
DROP INDEX "apikey_account_id";
-- reverse: create "api_keys" table
DROP TABLE "api_keys";
