-- 0009_task_counts.sql: a task's counts by state, kept as they change
-- instead of counted on every read.
--
-- A task's counts are over the devices of its group: each member counts in
-- the state of its task_devices row, or as 'pending' without one. Counting
-- them on every read walked all of the group's rows under the database lock
-- (17.5 ms at 5,000 devices, for a console that asks every second). Now:
--
--   device_groups.member_count   the group's members
--   task_state_counts            per task and state (every state of
--                                task_devices), the rows of members
--
-- and 'pending' is member_count less the sum of the task's rows. Triggers
-- keep both: a task_devices row counts while its device is a member of the
-- task's group, so the triggers on task_devices look the membership up, and
-- those on group_members add or take away the rows the device already has
-- in the group's tasks. Cascades (a device, group or task deleted) go
-- through the same triggers in either order: whichever of a device's
-- group_members and task_devices rows goes first takes the count away, the
-- other then finds nothing to take.

ALTER TABLE device_groups ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE device_groups SET member_count =
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = device_groups.group_id);

CREATE TABLE task_state_counts (
    task_id TEXT NOT NULL REFERENCES tasks(task_id) ON DELETE CASCADE,
    state   TEXT NOT NULL,
    n       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, state)
) WITHOUT ROWID;

-- every task has a row for each state, so that the triggers only update
CREATE TRIGGER task_counts_rows AFTER INSERT ON tasks BEGIN
    INSERT INTO task_state_counts(task_id, state)
        VALUES (NEW.task_id, 'offline'), (NEW.task_id, 'upToDate'), (NEW.task_id, 'pushed'),
               (NEW.task_id, 'succeeded'), (NEW.task_id, 'failed'), (NEW.task_id, 'timedOut');
END;

INSERT INTO task_state_counts(task_id, state, n)
    SELECT t.task_id, s.state,
           (SELECT COUNT(*) FROM task_devices td
              JOIN group_members m ON m.group_id = t.group_id AND m.product_key = td.product_key
                                  AND m.device_name = td.device_name
             WHERE td.task_id = t.task_id AND td.state = s.state)
      FROM tasks t,
           (SELECT 'offline' AS state UNION ALL SELECT 'upToDate' UNION ALL SELECT 'pushed'
            UNION ALL SELECT 'succeeded' UNION ALL SELECT 'failed' UNION ALL SELECT 'timedOut') s;

CREATE TRIGGER group_member_added AFTER INSERT ON group_members BEGIN
    UPDATE device_groups SET member_count = member_count + 1 WHERE group_id = NEW.group_id;
    UPDATE task_state_counts SET n = n + 1 WHERE (task_id, state) IN
        (SELECT td.task_id, td.state FROM tasks t JOIN task_devices td ON td.task_id = t.task_id
          WHERE t.group_id = NEW.group_id AND td.product_key = NEW.product_key
            AND td.device_name = NEW.device_name);
END;

CREATE TRIGGER group_member_removed AFTER DELETE ON group_members BEGIN
    UPDATE device_groups SET member_count = member_count - 1 WHERE group_id = OLD.group_id;
    UPDATE task_state_counts SET n = n - 1 WHERE (task_id, state) IN
        (SELECT td.task_id, td.state FROM tasks t JOIN task_devices td ON td.task_id = t.task_id
          WHERE t.group_id = OLD.group_id AND td.product_key = OLD.product_key
            AND td.device_name = OLD.device_name);
END;

CREATE TRIGGER task_device_added AFTER INSERT ON task_devices
WHEN EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = NEW.task_id AND m.product_key = NEW.product_key
                AND m.device_name = NEW.device_name) BEGIN
    UPDATE task_state_counts SET n = n + 1 WHERE task_id = NEW.task_id AND state = NEW.state;
END;

CREATE TRIGGER task_device_removed AFTER DELETE ON task_devices
WHEN EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = OLD.task_id AND m.product_key = OLD.product_key
                AND m.device_name = OLD.device_name) BEGIN
    UPDATE task_state_counts SET n = n - 1 WHERE task_id = OLD.task_id AND state = OLD.state;
END;

CREATE TRIGGER task_device_moved AFTER UPDATE OF state ON task_devices
WHEN OLD.state <> NEW.state AND EXISTS (SELECT 1 FROM tasks t JOIN group_members m ON m.group_id = t.group_id
              WHERE t.task_id = NEW.task_id AND m.product_key = NEW.product_key
                AND m.device_name = NEW.device_name) BEGIN
    UPDATE task_state_counts SET n = n - 1 WHERE task_id = OLD.task_id AND state = OLD.state;
    UPDATE task_state_counts SET n = n + 1 WHERE task_id = NEW.task_id AND state = NEW.state;
END;
