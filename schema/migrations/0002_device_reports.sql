-- 0002_device_reports.sql: what devices report about themselves over MQTT.
--
-- device_info holds the last thing/deviceinfo/update payload exactly as it
-- arrived (HaaS firmware sends text that is not always valid JSON);
-- firmware_version comes from hli_event_upgrade_query.

ALTER TABLE devices ADD COLUMN device_info TEXT;
ALTER TABLE devices ADD COLUMN device_info_at INTEGER;
ALTER TABLE devices ADD COLUMN firmware_version TEXT;
