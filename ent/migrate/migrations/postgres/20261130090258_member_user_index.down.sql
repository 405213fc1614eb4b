DROP INDEX "member_user_id";
