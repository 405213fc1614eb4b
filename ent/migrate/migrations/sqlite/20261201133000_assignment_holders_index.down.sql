DROP INDEX `assignment_role_id_member_id`;
