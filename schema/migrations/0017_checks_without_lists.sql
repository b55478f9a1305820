-- 0017_checks_without_lists.sql: the per-device tables check their status
-- or state with comparisons instead of an IN list.
--
-- SQLite (3.40) codes `x IN ('a', 'b', 'c')` with three or more constants
-- as a look-up in a temporary b-tree that it builds each time the statement
-- runs. A CHECK constraint runs whenever its column is written, so every
-- login's `UPDATE devices SET status = 'online'`, every result's
-- task_devices update and every progress report of a firmware job or a
-- rollout opened a b-tree, a pager and their memory, and filled and
-- dropped it: a quarter of the MQTT link's CPU while 19,800 devices logged
-- in (perf, bench-100k), about 6 of 22 us per status update. The same
-- values written as `x = 'a' OR x = 'b' OR ...` compare in place.
--
-- SQLite cannot change a CHECK constraint, so each table is made again,
-- rows kept, with its indexes and triggers as the earlier migrations left
-- them. Migrations run with foreign keys off (db.c), as SQLite's procedure
-- for this asks: dropping `devices` with them on would delete every row
-- that references a device. db.c checks the keys before the commit.
-- legacy_alter_table keeps the renames from checking triggers on other
-- tables that name a table while it is being replaced (group_members'
-- triggers name task_devices).

PRAGMA legacy_alter_table = ON;

-- devices (0001, columns of 0002 and 0003; indexes of 0010 and 0012;
-- triggers of 0011)
CREATE TABLE devices_new (
    product_key    TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    device_name    TEXT NOT NULL,            -- 4-32 chars [A-Za-z0-9_@.:-]
    device_secret  TEXT NOT NULL,            -- 32 chars [A-Za-z0-9]
    enabled        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'inactive'
                   CHECK (status = 'inactive' OR status = 'online' OR status = 'offline'),
    last_online_at INTEGER,
    ip             TEXT,
    created_at     INTEGER NOT NULL,
    device_info      TEXT,
    device_info_at   INTEGER,
    firmware_version TEXT,
    last_refusal     TEXT,
    last_refusal_at  INTEGER,
    PRIMARY KEY (product_key, device_name)
);
INSERT INTO devices_new (product_key, device_name, device_secret, enabled, status, last_online_at, ip, created_at,
                         device_info, device_info_at, firmware_version, last_refusal, last_refusal_at)
    SELECT product_key, device_name, device_secret, enabled, status, last_online_at, ip, created_at,
           device_info, device_info_at, firmware_version, last_refusal, last_refusal_at FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
CREATE INDEX devices_by_ip ON devices(ip);
CREATE INDEX devices_by_status ON devices(status, product_key, device_name);
CREATE TRIGGER device_counted AFTER INSERT ON devices BEGIN
    UPDATE device_counts SET n = n + 1 WHERE product_key = NEW.product_key AND status = NEW.status;
END;
CREATE TRIGGER device_uncounted AFTER DELETE ON devices BEGIN
    UPDATE device_counts SET n = n - 1 WHERE product_key = OLD.product_key AND status = OLD.status;
END;
CREATE TRIGGER device_recounted AFTER UPDATE OF status ON devices WHEN OLD.status <> NEW.status BEGIN
    UPDATE device_counts SET n = n - 1 WHERE product_key = OLD.product_key AND status = OLD.status;
    UPDATE device_counts SET n = n + 1 WHERE product_key = NEW.product_key AND status = NEW.status;
END;

-- task_devices (0007; indexes of 0007, 0013, 0015 and 0016; triggers of 0014)
CREATE TABLE task_devices_new (
    task_id     TEXT NOT NULL REFERENCES tasks(task_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    state       TEXT NOT NULL
                CHECK (state = 'offline' OR state = 'upToDate' OR state = 'pushed' OR state = 'succeeded'
                       OR state = 'failed' OR state = 'timedOut'),
    code        INTEGER,
    trace_id    TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (task_id, product_key, device_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);
INSERT INTO task_devices_new (task_id, product_key, device_name, state, code, trace_id, updated_at)
    SELECT task_id, product_key, device_name, state, code, trace_id, updated_at FROM task_devices;
DROP TABLE task_devices;
ALTER TABLE task_devices_new RENAME TO task_devices;
CREATE INDEX task_devices_by_device ON task_devices(product_key, device_name);
CREATE INDEX task_devices_pushed_by_task ON task_devices(task_id, updated_at) WHERE state = 'pushed';
CREATE INDEX task_devices_moved_by_time ON task_devices(task_id, updated_at) WHERE state <> 'offline';
CREATE INDEX task_devices_moved ON task_devices(task_id, product_key, device_name) WHERE state <> 'offline';
CREATE TRIGGER task_device_added AFTER INSERT ON task_devices
WHEN NOT EXISTS (SELECT 1 FROM task_counts_by_writer w WHERE w.task_id = NEW.task_id)
 AND EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = NEW.task_id AND m.product_key = NEW.product_key
                AND m.device_name = NEW.device_name) BEGIN
    UPDATE task_state_counts SET n = n + 1 WHERE task_id = NEW.task_id AND state = NEW.state;
END;
CREATE TRIGGER task_device_removed AFTER DELETE ON task_devices
WHEN NOT EXISTS (SELECT 1 FROM task_counts_by_writer w WHERE w.task_id = OLD.task_id)
 AND EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = OLD.task_id AND m.product_key = OLD.product_key
                AND m.device_name = OLD.device_name) BEGIN
    UPDATE task_state_counts SET n = n - 1 WHERE task_id = OLD.task_id AND state = OLD.state;
END;
CREATE TRIGGER task_device_moved AFTER UPDATE OF state ON task_devices
WHEN OLD.state <> NEW.state
 AND NOT EXISTS (SELECT 1 FROM task_counts_by_writer w WHERE w.task_id = NEW.task_id)
 AND EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = NEW.task_id AND m.product_key = NEW.product_key
                AND m.device_name = NEW.device_name) BEGIN
    UPDATE task_state_counts SET n = n - 1 WHERE task_id = OLD.task_id AND state = OLD.state;
    UPDATE task_state_counts SET n = n + 1 WHERE task_id = NEW.task_id AND state = NEW.state;
END;

-- ota_job_devices (0005; indexes of 0005 and 0010)
CREATE TABLE ota_job_devices_new (
    job_id       TEXT NOT NULL REFERENCES ota_jobs(job_id) ON DELETE CASCADE,
    product_key  TEXT NOT NULL,
    device_name  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state = 'queued' OR state = 'pushed' OR state = 'downloading' OR state = 'succeeded'
                        OR state = 'failed' OR state = 'timedOut' OR state = 'canceled'),
    progress     INTEGER,
    code         INTEGER,
    reason       TEXT NOT NULL DEFAULT '',
    from_version TEXT NOT NULL DEFAULT '',
    pushed_at    INTEGER,
    push_count   INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (job_id, product_key, device_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);
INSERT INTO ota_job_devices_new (job_id, product_key, device_name, state, progress, code, reason, from_version,
                                 pushed_at, push_count, updated_at)
    SELECT job_id, product_key, device_name, state, progress, code, reason, from_version,
           pushed_at, push_count, updated_at FROM ota_job_devices;
DROP TABLE ota_job_devices;
ALTER TABLE ota_job_devices_new RENAME TO ota_job_devices;
CREATE INDEX ota_job_devices_by_device ON ota_job_devices(product_key, device_name, state);
CREATE INDEX ota_job_devices_by_time ON ota_job_devices(job_id, updated_at);

-- rollout_devices (0006; indexes of 0006)
CREATE TABLE rollout_devices_new (
    rollout_id   TEXT NOT NULL REFERENCES rollouts(rollout_id) ON DELETE CASCADE,
    product_key  TEXT NOT NULL,
    device_name  TEXT NOT NULL,
    batch        INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'waiting'
                 CHECK (state = 'waiting' OR state = 'queued' OR state = 'pushed' OR state = 'downloading'
                        OR state = 'installing' OR state = 'succeeded' OR state = 'failed'
                        OR state = 'timedOut' OR state = 'canceled'),
    attempts     INTEGER NOT NULL DEFAULT 0,
    progress     INTEGER,
    code         INTEGER,
    reason       TEXT NOT NULL DEFAULT '',
    from_version TEXT NOT NULL DEFAULT '',
    pushed_at    INTEGER,
    retry_at     INTEGER,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (rollout_id, product_key, device_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);
INSERT INTO rollout_devices_new (rollout_id, product_key, device_name, batch, state, attempts, progress, code, reason,
                                 from_version, pushed_at, retry_at, updated_at)
    SELECT rollout_id, product_key, device_name, batch, state, attempts, progress, code, reason,
           from_version, pushed_at, retry_at, updated_at FROM rollout_devices;
DROP TABLE rollout_devices;
ALTER TABLE rollout_devices_new RENAME TO rollout_devices;
CREATE INDEX rollout_devices_by_device ON rollout_devices(product_key, device_name);
CREATE INDEX rollout_devices_by_batch ON rollout_devices(rollout_id, batch, state);

PRAGMA legacy_alter_table = OFF;
