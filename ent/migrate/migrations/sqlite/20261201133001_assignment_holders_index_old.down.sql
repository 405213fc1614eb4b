CREATE INDEX `assignment_role_id` ON `assignments` (`role_id`);
