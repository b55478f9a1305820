-- 0013_task_timeout_sweep.sql: the sweep that times out pushed devices
-- (four times a second, store_task_due_timeouts and store_task_timeouts)
-- looks, task by task, only at the rows whose time is up. The index of
-- 0007 ordered all pushed rows by time, but the timeout is each task's, so
-- the sweep still read every pushed row and its task: 100,000 rows under
-- the database lock four times a second while a push to 100,000 devices
-- waited for results.

DROP INDEX task_devices_pushed;
CREATE INDEX task_devices_pushed_by_task ON task_devices(task_id, updated_at) WHERE state = 'pushed';
