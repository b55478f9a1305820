-- 0015_download_owner_moved_rows.sql: a download's owner is found among
-- the rows a task moved on, not among all of them.
--
-- store_download_owner (store_device_ip.c) looks, for each task of the
-- downloaded package, for its newest row whose device is at the download's
-- address and which is not 'offline'. The index of 0010 ordered all of a
-- task's rows by time, so that walk read every newer 'offline' row (and its
-- row in the table, for the state) before it reached one: after a push to a
-- group of 100,000 devices with 80,000 offline, each download of the
-- package took 22 ms under the database lock. This index holds only the
-- rows that can own a download, and a push no longer writes the offline
-- ones into any time index.

DROP INDEX task_devices_by_time;
CREATE INDEX task_devices_moved_by_time ON task_devices(task_id, updated_at) WHERE state <> 'offline';
