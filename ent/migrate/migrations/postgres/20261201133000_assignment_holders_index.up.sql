-- A role's holders in member id order: Role.members reads a page from its cursor and stops (R6, issue 13).
-- CONCURRENTLY, alone in its file: the servers still running keep writing.
CREATE INDEX CONCURRENTLY "assignment_role_id_member_id" ON "assignments" ("role_id", "member_id");
