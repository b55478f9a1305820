-- 0018_device_auth_version.sql: a number that moves whenever what a device
-- logs in with may have changed, so that the broker plugin may keep device
-- secrets between logins (server/plugin/secret_cache.h).
--
-- The plugin reads device_secret and enabled at each login; at 19,800
-- logins that look-up was about 6% of its broker's CPU (bench-100k). It now
-- keeps what it read, and forgets all of it when this number is not the one
-- it read before, at the start of each pass of the broker's loop (in the
-- pass's read transaction, store_device_auth.c). The triggers move the
-- number in the same transaction as the change: a secret reset, a device
-- disabled or enabled, a device deleted (also by its product's deletion),
-- or its key changed, and a device added: a new device is not kept yet,
-- but an INSERT OR REPLACE deletes the row it replaces without firing
-- DELETE triggers (unless recursive_triggers is on).

CREATE TABLE device_auth_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO device_auth_version (id, n) VALUES (1, 0);

CREATE TRIGGER device_auth_changed AFTER UPDATE OF product_key, device_name, device_secret, enabled ON devices
WHEN OLD.product_key IS NOT NEW.product_key OR OLD.device_name IS NOT NEW.device_name
  OR OLD.device_secret IS NOT NEW.device_secret OR OLD.enabled IS NOT NEW.enabled BEGIN
    UPDATE device_auth_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER device_auth_removed AFTER DELETE ON devices BEGIN
    UPDATE device_auth_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER device_auth_added AFTER INSERT ON devices BEGIN
    UPDATE device_auth_version SET n = n + 1 WHERE id = 1;
END;
