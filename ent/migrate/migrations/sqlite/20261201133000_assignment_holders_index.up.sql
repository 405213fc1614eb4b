-- A role's holders in member id order: Role.members reads a page from its cursor and stops (R6, issue 13).
CREATE INDEX `assignment_role_id_member_id` ON `assignments` (`role_id`, `member_id`);
