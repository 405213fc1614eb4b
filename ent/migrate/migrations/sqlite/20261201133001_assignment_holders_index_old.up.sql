-- The index assignment_role_id_member_id replaces.
DROP INDEX `assignment_role_id`;
