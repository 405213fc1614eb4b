-- reverse: create index "assignment_role_id" to table: "assignments"
DROP INDEX "assignment_role_id";
-- reverse: create index "assignment_member_id_role_id" to table: "assignments"
DROP INDEX "assignment_member_id_role_id";
-- reverse: create index "assignment_account_id" to table: "assignments"
DROP INDEX "assignment_account_id";
-- reverse: create "assignments" table
DROP TABLE "assignments";
-- reverse: create index "role_account_id_key" to table: "roles"
DROP INDEX "role_account_id_key";
-- reverse: create "roles" table
DROP TABLE "roles";
-- reverse: create index "member_account_id_user_id" to table: "members"
DROP INDEX "member_account_id_user_id";
-- reverse: create "members" table
DROP TABLE "members";
-- reverse: create index "users_email_key" to table: "users"
DROP INDEX "users_email_key";
-- reverse: create "users" table
DROP TABLE "users";
-- reverse: create "account_permissions" table
DROP TABLE "account_permissions";
-- reverse: create index "permissions_key_key" to table: "permissions"
DROP INDEX "permissions_key_key";
-- reverse: create "permissions" table
DROP TABLE "permissions";
-- reverse: create index "scope_account_id_key" to table: "scopes"
DROP INDEX "scope_account_id_key";
-- reverse: create "scopes" table
DROP TABLE "scopes";
-- reverse: create "operator_keys" table
DROP TABLE "operator_keys";
-- reverse: create index "auditevent_account_id_seq" to table: "audit_events"
DROP INDEX "auditevent_account_id_seq";
-- reverse: create index "auditevent_account_id_created_at" to table: "audit_events"
DROP INDEX "auditevent_account_id_created_at";
-- reverse: create "audit_events" table
DROP TABLE "audit_events";
-- reverse: create index "accounts_slug_key" to table: "accounts"
DROP INDEX "accounts_slug_key";
-- reverse: create "accounts" table
DROP TABLE "accounts";
-- reverse: create index "apikey_member_id" to table: "api_keys"
DROP INDEX "apikey_member_id";
-- reverse: create index "apikey_account_id" to table: "api_keys"
DROP INDEX "apikey_account_id";
-- reverse: create "api_keys" table
DROP TABLE "api_keys";
