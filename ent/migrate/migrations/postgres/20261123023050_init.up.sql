-- create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "name" character varying NOT NULL, "created_by" character varying NOT NULL, "member_id" character varying NULL, "scopes" jsonb NOT NULL, "permissions" jsonb NOT NULL, "masks" jsonb NOT NULL, "secret_hash" bytea NOT NULL, "expires_at" timestamptz NULL, "revoked_at" timestamptz NULL, "last_used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create index "apikey_account_id" to table: "api_keys"
CREATE INDEX "apikey_account_id" ON "api_keys" ("account_id");
-- create index "apikey_member_id" to table: "api_keys"
CREATE INDEX "apikey_member_id" ON "api_keys" ("member_id");
-- create "accounts" table
CREATE TABLE "accounts" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "slug" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "role_assignment" character varying NOT NULL DEFAULT 'MULTIPLE', "default_access_excludes" jsonb NOT NULL, "custom_roles" boolean NOT NULL DEFAULT true, "resource_constraints" boolean NOT NULL DEFAULT false, "template" character varying NULL, PRIMARY KEY ("id"));
-- create index "accounts_slug_key" to table: "accounts"
CREATE UNIQUE INDEX "accounts_slug_key" ON "accounts" ("slug");
-- create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "account_id" character varying NOT NULL DEFAULT '', "actor_type" character varying NOT NULL, "actor_id" character varying NOT NULL, "actor_label" character varying NOT NULL DEFAULT '', "action" character varying NOT NULL, "target_type" character varying NOT NULL DEFAULT '', "target_id" character varying NOT NULL DEFAULT '', "changes" jsonb NULL, "request_id" character varying NOT NULL DEFAULT '', "client_addr" character varying NOT NULL DEFAULT '', "seq" bigint NOT NULL, "prev_hash" character varying NOT NULL DEFAULT '', "hash" character varying NOT NULL, PRIMARY KEY ("id"));
-- create index "auditevent_account_id_created_at" to table: "audit_events"
CREATE INDEX "auditevent_account_id_created_at" ON "audit_events" ("account_id", "created_at");
-- create index "auditevent_account_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX "auditevent_account_id_seq" ON "audit_events" ("account_id", "seq");
-- create "operator_keys" table
CREATE TABLE "operator_keys" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "name" character varying NOT NULL DEFAULT '', "secret_hash" bytea NOT NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"));
-- create "scopes" table
CREATE TABLE "scopes" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "key" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "grants" jsonb NOT NULL, PRIMARY KEY ("id"));
-- create index "scope_account_id_key" to table: "scopes"
CREATE UNIQUE INDEX "scope_account_id_key" ON "scopes" ("account_id", "key");
-- create "permissions" table
CREATE TABLE "permissions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "group" character varying NOT NULL DEFAULT '', "kind" character varying NOT NULL DEFAULT 'GRANT', "implies" jsonb NULL, "built_in" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
-- create index "permissions_key_key" to table: "permissions"
CREATE UNIQUE INDEX "permissions_key_key" ON "permissions" ("key");
-- create "account_permissions" table
CREATE TABLE "account_permissions" ("account_id" character varying NOT NULL, "permission_id" character varying NOT NULL, PRIMARY KEY ("account_id", "permission_id"), CONSTRAINT "account_permissions_account_id" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "account_permissions_permission_id" FOREIGN KEY ("permission_id") REFERENCES "permissions" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
-- create "members" table
CREATE TABLE "members" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "account_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "members_accounts_members" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "members_users_memberships" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "member_account_id_user_id" to table: "members"
CREATE UNIQUE INDEX "member_account_id_user_id" ON "members" ("account_id", "user_id");
-- create "roles" table
CREATE TABLE "roles" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "key" character varying NOT NULL, "name" character varying NOT NULL, "description" character varying NOT NULL DEFAULT '', "kind" character varying NOT NULL DEFAULT 'CUSTOM', "grants" jsonb NOT NULL, "constraints" jsonb NULL, "version" bigint NOT NULL DEFAULT 1, "position" bigint NOT NULL DEFAULT 0, "account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "roles_accounts_roles" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "role_account_id_key" to table: "roles"
CREATE UNIQUE INDEX "role_account_id_key" ON "roles" ("account_id", "key");
-- create "assignments" table
CREATE TABLE "assignments" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "account_id" character varying NOT NULL, "member_id" character varying NOT NULL, "role_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "assignments_members_assignments" FOREIGN KEY ("member_id") REFERENCES "members" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, CONSTRAINT "assignments_roles_assignments" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION);
-- create index "assignment_account_id" to table: "assignments"
CREATE INDEX "assignment_account_id" ON "assignments" ("account_id");
-- create index "assignment_member_id_role_id" to table: "assignments"
CREATE UNIQUE INDEX "assignment_member_id_role_id" ON "assignments" ("member_id", "role_id");
-- create index "assignment_role_id" to table: "assignments"
CREATE INDEX "assignment_role_id" ON "assignments" ("role_id");
