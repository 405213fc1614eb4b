DROP INDEX CONCURRENTLY "auditevent_account_id_created_at_id";
