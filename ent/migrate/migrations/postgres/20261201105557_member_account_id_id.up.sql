-- The members list's default order, by id within the account (issue 13).
CREATE INDEX "member_account_id_id" ON "members" ("account_id", "id");
