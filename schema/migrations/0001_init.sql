-- 0001_init.sql: the first schema of the emulator's database.
--
-- Applied by server/src/db.c at start-up inside one transaction; the number in
-- the file name is the schema version it leads to (PRAGMA user_version). Never
-- edit a migration that has shipped: add the next numbered file instead, so a
-- database made by an older build opens with a newer one.
--
-- Times are integer Unix seconds (UTC). Text identifiers follow the real
-- cloud's formats (../shared/docs/PROTOCOL.md section 1 and 4.6).

-- Key/value settings the server generates once and keeps (e.g. the OSS
-- access key secret that signs package URLs, so URLs survive a restart).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE products (
    product_key TEXT PRIMARY KEY,            -- 11 chars [A-Za-z0-9]
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE devices (
    product_key    TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    device_name    TEXT NOT NULL,            -- 4-32 chars [A-Za-z0-9_@.:-]
    device_secret  TEXT NOT NULL,            -- 32 chars [A-Za-z0-9]
    enabled        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'inactive'
                   CHECK (status IN ('inactive', 'online', 'offline')),
    last_online_at INTEGER,
    ip             TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (product_key, device_name)
);

-- App versions a device reported (hli_event_upgrade_query) or reached
-- (a successful app.result).
CREATE TABLE device_apps (
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    version     TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (product_key, device_name, app_id),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);

CREATE TABLE device_groups (
    group_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES device_groups(group_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (group_id, product_key, device_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);

CREATE TABLE apps (
    app_id      TEXT PRIMARY KEY,            -- 16 digits, 88001000xxxxxxxx
    app_name    TEXT NOT NULL UNIQUE,        -- [A-Za-z0-9]{1,16}
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

-- One uploaded package. The file lives at <data>/packages/<object_key>; the
-- download path is /<bucket>/<object_key>.
CREATE TABLE versions (
    app_id      TEXT NOT NULL REFERENCES apps(app_id) ON DELETE RESTRICT,
    version     TEXT NOT NULL,               -- as uploaded, "a.b.c"
    v_major     INTEGER NOT NULL,
    v_minor     INTEGER NOT NULL,
    v_patch     INTEGER NOT NULL,
    object_key  TEXT NOT NULL UNIQUE,
    size        INTEGER NOT NULL,
    md5         TEXT NOT NULL,               -- lower-case hex
    sha256      TEXT NOT NULL,               -- lower-case hex
    status      TEXT NOT NULL DEFAULT 'testing'
                CHECK (status IN ('testing', 'deprecated')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, version),
    UNIQUE (app_id, v_major, v_minor, v_patch)
);

CREATE TABLE tasks (
    task_id    TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    version    TEXT NOT NULL,
    group_id   TEXT NOT NULL REFERENCES device_groups(group_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    pushed_at  INTEGER,
    push_count INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (app_id, version) REFERENCES versions(app_id, version) ON DELETE CASCADE
);

-- Per-device state of a task, written when the task is pushed and updated by
-- the device's result events. States: offline, upToDate, pushed, succeeded,
-- failed (code holds the device's argInt, e.g. 404 or 405).
CREATE TABLE task_devices (
    task_id     TEXT NOT NULL REFERENCES tasks(task_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    state       TEXT NOT NULL
                CHECK (state IN ('offline', 'upToDate', 'pushed', 'succeeded', 'failed')),
    code        INTEGER,
    trace_id    TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (task_id, product_key, device_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);

CREATE INDEX task_devices_by_device ON task_devices(product_key, device_name);
CREATE INDEX tasks_by_group ON tasks(group_id);
