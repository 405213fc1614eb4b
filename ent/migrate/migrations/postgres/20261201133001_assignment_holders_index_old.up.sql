-- The index assignment_role_id_member_id replaces.
DROP INDEX CONCURRENTLY "assignment_role_id";
