DROP FUNCTION gatehouse_lock_account(bigint, character varying);
