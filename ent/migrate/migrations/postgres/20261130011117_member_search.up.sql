-- Member search (dashboards): the users' emails and names copied to their
-- memberships, when each member last used a permission (the Unix epoch for
-- never), and an index per sort order of an account's member list.
ALTER TABLE "members" ADD COLUMN "email" character varying NOT NULL DEFAULT '', ADD COLUMN "name" character varying NOT NULL DEFAULT '', ADD COLUMN "last_active_at" timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00';
UPDATE "members" m SET "email" = u."email", "name" = u."name" FROM "users" u WHERE u."id" = m."user_id";
UPDATE "members" m SET "last_active_at" = x."at" FROM (SELECT "subject_id", max("last_used_at") AS "at" FROM "usages" GROUP BY "subject_id") x WHERE x."subject_id" = m."id";
CREATE INDEX "member_account_id_created_at" ON "members" ("account_id", "created_at");
CREATE INDEX "member_account_id_email" ON "members" ("account_id", "email");
CREATE INDEX "member_account_id_last_active_at" ON "members" ("account_id", "last_active_at");
CREATE INDEX "member_account_id_name" ON "members" ("account_id", "name");
CREATE INDEX "member_account_id_status" ON "members" ("account_id", "status");
