-- 0006_rollouts.sql: staged rollouts of a firmware or of an app version
-- to a product's devices (docs/protocol.md section 13): batches that start
-- one after the other when the one before reaches its success threshold,
-- an error threshold that pauses the rollout, a scheduled start, a push
-- rate, a per-device timeout and retries.
--
-- kind 'firmware' sends firmware_id through the standard OTA notice; kind
-- 'app' sends app_id/version through the HaaS upgrade push.
-- batches: the batch sizes as the user gave them, e.g. "3,10%,100%"
-- (a count or a percent of the devices matched at start; the last batch
-- takes every device left, and the devices a dynamic rollout takes later).

CREATE TABLE rollouts (
    rollout_id       TEXT PRIMARY KEY,
    name             TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL CHECK (kind IN ('firmware', 'app')),
    product_key      TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    firmware_id      TEXT REFERENCES firmwares(firmware_id) ON DELETE CASCADE,
    module_name      TEXT NOT NULL DEFAULT '',
    app_id           TEXT NOT NULL DEFAULT '',
    version          TEXT NOT NULL,
    target_type      TEXT NOT NULL CHECK (target_type IN ('product', 'group', 'devices')),
    group_id         TEXT,
    src_versions     TEXT NOT NULL DEFAULT '',
    dynamic          INTEGER NOT NULL DEFAULT 0,
    batches          TEXT NOT NULL,
    batch_count      INTEGER NOT NULL,
    success_percent  INTEGER NOT NULL DEFAULT 100,
    error_percent    INTEGER NOT NULL DEFAULT 100,
    start_at         INTEGER NOT NULL,
    rate_per_minute  INTEGER NOT NULL DEFAULT 0,
    timeout_seconds  INTEGER NOT NULL DEFAULT 0,
    max_retries      INTEGER NOT NULL DEFAULT 0,
    retry_seconds    INTEGER NOT NULL DEFAULT 60,
    status           TEXT NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'running', 'paused', 'completed', 'canceled')),
    pause_reason     TEXT NOT NULL DEFAULT '',
    current_batch    INTEGER NOT NULL DEFAULT 0,
    accepted_errors  INTEGER NOT NULL DEFAULT 0, -- failures of the current batch a resume accepted
    created_at       INTEGER NOT NULL,
    ended_at         INTEGER
);

-- The devices of a rollout and where each is. batch: 1..batch_count.
-- state: waiting (its batch has not started), queued (started, not pushed
-- yet: offline, over the rate, or waiting for a retry), pushed,
-- downloading, installing, succeeded, failed, timedOut. attempts: pushes
-- so far; a failed or timed-out device is pushed again after retry_seconds
-- while attempts <= max_retries.
CREATE TABLE rollout_devices (
    rollout_id   TEXT NOT NULL REFERENCES rollouts(rollout_id) ON DELETE CASCADE,
    product_key  TEXT NOT NULL,
    device_name  TEXT NOT NULL,
    batch        INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'waiting'
                 CHECK (state IN ('waiting', 'queued', 'pushed', 'downloading', 'installing', 'succeeded',
                                  'failed', 'timedOut', 'canceled')),
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

CREATE INDEX rollout_devices_by_device ON rollout_devices(product_key, device_name);
CREATE INDEX rollout_devices_by_batch ON rollout_devices(rollout_id, batch, state);

-- Every state a device of a rollout went through, in order.
CREATE TABLE rollout_history (
    rollout_id  TEXT NOT NULL REFERENCES rollouts(rollout_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    at          INTEGER NOT NULL,
    state       TEXT NOT NULL,
    code        INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX rollout_history_by_device ON rollout_history(rollout_id, product_key, device_name);
