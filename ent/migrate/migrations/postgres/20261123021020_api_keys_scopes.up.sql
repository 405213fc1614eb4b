-- create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "name" character varying NOT NULL, "created_by" character varying NOT NULL, "member_id" character varying NULL, "scopes" jsonb NOT NULL, "permissions" jsonb NOT NULL, "masks" jsonb NOT NULL, "secret_hash" bytea NOT NULL, "expires_at" timestamptz NULL, "revoked_at" timestamptz NULL, "last_used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "apikey_account_id" to table: "api_keys"
CREATE INDEX "apikey_account_id" ON "api_keys" ("account_id");
-- create index "apikey_member_id" to table: "api_keys"
CREATE INDEX "apikey_member_id" ON "api_keys" ("member_id");
-- create "scopes" table
CREATE TABLE "scopes" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "key" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "grants" jsonb NOT NULL, PRIMARY KEY ("id"));
-- create index "scope_account_id_key" to table: "scopes"
CREATE UNIQUE INDEX "scope_account_id_key" ON "scopes" ("account_id", "key");
