-- The audit log's pages (created_at, then id) and their counts, from the index alone (L3, issue 13).
CREATE INDEX `auditevent_account_id_created_at_id` ON `audit_events` (`account_id`, `created_at`, `id`);
