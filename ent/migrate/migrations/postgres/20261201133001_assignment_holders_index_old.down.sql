CREATE INDEX CONCURRENTLY "assignment_role_id" ON "assignments" ("role_id");
