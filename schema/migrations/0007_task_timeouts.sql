-- 0007_task_timeouts.sql: test tasks time out. A pushed device that gives
-- no result within the task's timeout (tasks.timeout_seconds, NULL = the
-- server's --task-timeout) ends as 'timedOut'; pushing the task again
-- retries it. SQLite cannot change a CHECK constraint, so task_devices is
-- made again with the new state allowed, rows kept.

CREATE TABLE task_devices_new (
    task_id     TEXT NOT NULL REFERENCES tasks(task_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('offline', 'upToDate', 'pushed', 'succeeded', 'failed', 'timedOut')),
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
-- the timeout sweep looks at pushed rows only
CREATE INDEX task_devices_pushed ON task_devices(state, updated_at) WHERE state = 'pushed';

ALTER TABLE tasks ADD COLUMN timeout_seconds INTEGER;
