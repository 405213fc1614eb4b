-- reverse: modify "audit_events" table
ALTER TABLE "audit_events" DROP COLUMN "reason";
-- reverse: modify "accounts" table
ALTER TABLE "accounts" DROP COLUMN "custom_roles_permission", DROP COLUMN "min_roles_per_member", DROP COLUMN "new_member_roles";
