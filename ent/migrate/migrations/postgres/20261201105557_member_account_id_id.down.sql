DROP INDEX CONCURRENTLY "member_account_id_id";
