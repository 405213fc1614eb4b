-- A change locks its account and reads the account's and the platform's
-- chain heads in one round trip (graph/iam: Service.lock): the platform's
-- advisory lock shared, then the account's row, then the newest event of
-- each chain. The function is VOLATILE, so each of its statements takes a
-- new snapshot: the heads are read once the locks are held, as when they
-- were read by a statement of their own. A missing account raises
-- no_data_found (P0002).
CREATE FUNCTION gatehouse_lock_account(platform_lock bigint, account character varying)
RETURNS TABLE (chain character varying, seq bigint, hash character varying)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(platform_lock) FROM accounts a WHERE a.id = account FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = 'no account ' || account;
  END IF;
  RETURN QUERY
    (SELECT e.account_id, e.seq, e.hash FROM audit_events e WHERE e.account_id = account ORDER BY e.seq DESC LIMIT 1)
    UNION ALL
    (SELECT e.account_id, e.seq, e.hash FROM audit_events e WHERE e.account_id = '' ORDER BY e.seq DESC LIMIT 1);
END
$$;
