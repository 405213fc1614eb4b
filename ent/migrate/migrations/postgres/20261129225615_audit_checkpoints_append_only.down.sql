DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints;
DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints;
DROP FUNCTION IF EXISTS gatehouse_checkpoints_append_only();
