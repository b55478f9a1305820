-- 0004_group_members_by_device.sql: deleting a device (or a product, with
-- all its devices) cascades to group_members through its foreign key on
-- (product_key, device_name), which no index covered: SQLite scanned the
-- whole table once per deleted device (a product of 10,000 grouped devices
-- took about 27 s to delete). task_devices and device_apps are covered
-- already (task_devices_by_device; device_apps' primary key).

CREATE INDEX group_members_by_device ON group_members(product_key, device_name);
