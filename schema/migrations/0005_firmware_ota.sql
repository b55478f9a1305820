-- 0005_firmware_ota.sql: standard Aliyun IoT firmware OTA (docs/protocol.md
-- section 10): OTA modules, firmware files, the versions devices report per
-- module, upgrade jobs and each device's state in a job.
--
-- Firmware versions and module names are text of [A-Za-z0-9._-], 1..64
-- characters, compared as text (a device has reached a version when it
-- reports exactly it). The module "default" of every product is implied:
-- ota_modules holds the named ones only.

CREATE TABLE ota_modules (
    product_key TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    module_name TEXT NOT NULL,
    alias       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (product_key, module_name)
);

-- One uploaded firmware. The file lives at <data>/packages/<object_key>
-- ("fw/<firmwareId>.bin"); the download path is /<bucket>/<object_key>.
-- src_versions: the versions it upgrades from, comma-separated ("" = any).
CREATE TABLE firmwares (
    firmware_id  TEXT PRIMARY KEY,
    product_key  TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    module_name  TEXT NOT NULL,
    version      TEXT NOT NULL,
    name         TEXT NOT NULL,
    object_key   TEXT NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    md5          TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    sign_method  TEXT NOT NULL CHECK (sign_method IN ('Md5', 'SHA256')),
    src_versions TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (product_key, module_name, version)
);

-- The version each module of a device last reported (/ota/device/inform).
CREATE TABLE device_modules (
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    module_name TEXT NOT NULL,
    version     TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (product_key, device_name, module_name),
    FOREIGN KEY (product_key, device_name)
        REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);

-- An upgrade job: a firmware to a list of devices, a group, or every device
-- of the product (on given versions). status: inProgress, completed (every
-- device ended), canceled.
CREATE TABLE ota_jobs (
    job_id          TEXT PRIMARY KEY,
    firmware_id     TEXT NOT NULL REFERENCES firmwares(firmware_id) ON DELETE CASCADE,
    target_type     TEXT NOT NULL CHECK (target_type IN ('devices', 'group', 'product')),
    group_id        TEXT,
    src_versions    TEXT NOT NULL DEFAULT '',
    timeout_minutes INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'inProgress'
                    CHECK (status IN ('inProgress', 'completed', 'canceled')),
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER
);

-- Each device of a job, chosen when the job is created. progress: the last
-- step 0..100 the device reported; code: its negative failure step (-1
-- upgrade, -2 download, -3 verify, -4 burn failed), or NULL.
CREATE TABLE ota_job_devices (
    job_id       TEXT NOT NULL REFERENCES ota_jobs(job_id) ON DELETE CASCADE,
    product_key  TEXT NOT NULL,
    device_name  TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'pushed', 'downloading', 'succeeded', 'failed', 'timedOut',
                                  'canceled')),
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

CREATE INDEX ota_job_devices_by_device ON ota_job_devices(product_key, device_name, state);
CREATE INDEX ota_jobs_by_firmware ON ota_jobs(firmware_id);
