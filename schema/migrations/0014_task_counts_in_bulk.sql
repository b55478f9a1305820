-- 0014_task_counts_in_bulk.sql: a push records every member's state (up to
-- 100,000 rows); the triggers of 0009_task_counts.sql would look up each
-- row's membership and update its count one row at a time, three times
-- the cost of writing the rows. store_push_record knows every row is a
-- member and what state it had, so for the length of its transaction it
-- names the task here, the triggers leave that task alone, and it adds the
-- counts up itself. The table is empty outside that transaction.

CREATE TABLE task_counts_by_writer (
    task_id TEXT PRIMARY KEY
) WITHOUT ROWID;

DROP TRIGGER task_device_added;
DROP TRIGGER task_device_removed;
DROP TRIGGER task_device_moved;

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
