-- A user's memberships across accounts (viewer.memberships, invitations
-- activated at sign-in) are found by user: without this index every member
-- of every account was read.
CREATE INDEX "member_user_id" ON "members" ("user_id");
