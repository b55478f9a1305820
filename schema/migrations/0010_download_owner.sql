-- 0010_download_owner.sql: finding which device a download is for
-- (store_device_ip.c) without walking every device of the task.
--
-- A download names a package object and comes from an address; its owner
-- is the device at that address most recently moved on in a task (or
-- firmware job) of that object. Without these indexes SQLite walked all of
-- the task's rows for every download: 38 ms per download at 10,000
-- devices, quadratic over a fleet. With them it reads the tasks of the
-- version, then each task's rows newest first until one is at the address
-- (the first one, when a fleet shares one host), and gives up at once for
-- an address no device has.

CREATE INDEX devices_by_ip ON devices(ip);
CREATE INDEX tasks_by_version ON tasks(app_id, version);
CREATE INDEX task_devices_by_time ON task_devices(task_id, updated_at);
CREATE INDEX ota_job_devices_by_time ON ota_job_devices(job_id, updated_at);
