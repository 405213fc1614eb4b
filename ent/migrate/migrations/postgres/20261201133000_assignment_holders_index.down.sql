DROP INDEX CONCURRENTLY "assignment_role_id_member_id";
