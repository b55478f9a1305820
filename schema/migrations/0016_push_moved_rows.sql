-- 0016_push_moved_rows.sql: a push to a big, mostly offline group walks
-- the task's rows that are not 'offline', not every member.
--
-- A push decides a state for every member of the task's group, but writes
-- nothing for a member that is offline and already recorded 'offline'
-- (service_tasks.c). Once every member has a row, the members a push can
-- change are the online ones (read from devices_by_status) and those whose
-- row is not 'offline': this index gives the latter in the order of the
-- walk (store_push_moved_members). At 100,000 members with 80,200 offline,
-- a push looked up all 100,000 (three look-ups each); now 19,800 twice.

CREATE INDEX task_devices_moved ON task_devices(task_id, product_key, device_name) WHERE state <> 'offline';
