-- modify "accounts" table
ALTER TABLE "accounts" ADD COLUMN "new_member_roles" jsonb NULL, ADD COLUMN "min_roles_per_member" bigint NOT NULL DEFAULT 0, ADD COLUMN "custom_roles_permission" character varying NOT NULL DEFAULT '';
-- modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "reason" character varying NOT NULL DEFAULT '';
-- Existing accounts keep what they gave new members, but those of the
-- templates whose documents give new members nothing (least privilege, M2).
UPDATE "accounts" SET "new_member_roles" = '[]'::jsonb WHERE "template" IN ('basic', 'convrs', 'truerecord', 'truthlocks');
UPDATE "accounts" SET "new_member_roles" = '["default_access"]'::jsonb WHERE "new_member_roles" IS NULL;
