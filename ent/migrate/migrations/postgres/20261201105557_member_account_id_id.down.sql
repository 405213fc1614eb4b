DROP INDEX "member_account_id_id";
