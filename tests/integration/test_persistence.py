"""The data directory: restart keeps everything, one owner at a time,
migrations bring an older database up to date."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from harness import APP_ID, EMU, ROOT, Emulator, make_package, package_name

MIGRATIONS = os.path.join(ROOT, "schema", "migrations")


def latest_schema():
    """The version of the newest migration in schema/migrations."""
    return max(int(f.split("_")[0]) for f in os.listdir(MIGRATIONS) if f.endswith(".sql"))


class PersistenceTest(unittest.TestCase):
    def test_restart_keeps_everything(self):
        emu = Emulator("persist-restart").start()
        try:
            pk = emu.product("kept")
            dev = emu.device(pk, "kept-dev")
            gid = emu.post("/api/v1/groups", {"name": "kept group"}).json["groupId"]
            emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "kept-dev"}]})
            emu.app()
            data = make_package({})
            url = emu.upload(APP_ID, package_name(), data).json["url"]
            tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid}).json["taskId"]
            snapshot = {p: emu.get(p).json for p in ("/api/v1/products", "/api/v1/groups", "/api/v1/apps",
                                                     "/api/v1/products/%s/devices" % pk)}
        finally:
            emu.stop()
        emu.start(fresh=False)
        try:
            for path, before in snapshot.items():
                self.assertEqual(emu.get(path).json, before, path)
            self.assertEqual(emu.get("/api/v1/products/%s/devices/kept-dev" % pk).json["deviceSecret"],
                             dev["deviceSecret"])
            self.assertEqual(emu.get("/api/v1/tasks/" + tid).json["groupId"], gid)
            # a URL handed out before the restart still works (the signing secret is kept)
            self.assertEqual(emu.get(url.split(str(emu.port), 1)[1]).body, data)
        finally:
            emu.stop()

    def test_generated_signing_secret_survives_restart(self):
        # No --oss-access-key-secret: one is generated and kept in the database.
        emu = Emulator("persist-secret", oss_secret=None).start()
        try:
            emu.app()
            url = emu.upload(APP_ID, package_name(), make_package({})).json["url"]
            path = url.split(str(emu.port), 1)[1]
            self.assertEqual(emu.get(path).status, 200)
        finally:
            emu.stop()
        emu.start(fresh=False)
        try:
            self.assertEqual(emu.get(path).status, 200)
            self.assertEqual(emu.get("/api/v1/apps/%s/versions/0.0.2" % APP_ID).json["url"].split("Signature=")[0]
                             .split("?")[0], url.split("?")[0])
        finally:
            emu.stop()

    def test_second_instance_on_same_data_dir_is_refused(self):
        first = Emulator("persist-lock").start()
        try:
            second = subprocess.run([EMU, "--http-port", "0", "--data-dir", first.data_dir],
                                    capture_output=True, text=True, timeout=30)
            self.assertEqual(second.returncode, 1)
            self.assertIn("in use by another haas-emu (pid %d)" % first.proc.pid, second.stderr)
            self.assertEqual(first.get("/healthz").status, 200)
            first.product("still fine")
        finally:
            first.stop()

    def test_older_database_is_migrated(self):
        """A database made by an older build (schema version 1, with data)
        opens with this one and keeps its rows."""
        emu = Emulator("persist-migrate")
        db = sqlite3.connect(self._database_at(emu, 1))
        db.execute("INSERT INTO products VALUES ('a1OldProd01', 'from v1', 1700000000)")
        db.commit()
        db.close()
        emu.start(fresh=False)
        try:
            self.assertEqual(emu.get("/api/v1/products/a1OldProd01").json["name"], "from v1")
            self.assertEqual(emu.get("/healthz").json["schemaVersion"], latest_schema())
            db = sqlite3.connect(os.path.join(emu.data_dir, "haas.db"))
            self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            db.close()
        finally:
            emu.stop()

    def test_per_device_tables_made_again_keep_rows_keys_and_counts(self):
        """0017 makes devices, task_devices, ota_job_devices and
        rollout_devices again (new CHECK constraints): a database of schema
        version 16 keeps its rows, the counts its triggers keep and the keys
        that delete a device's rows with it."""
        emu = Emulator("persist-0017")
        path = self._database_at(emu, 16)
        db = sqlite3.connect(path)
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript("""
            INSERT INTO products VALUES ('a1OldProd17', 'from v16', 1700000000);
            INSERT INTO devices(product_key, device_name, device_secret, created_at, status, ip, firmware_version)
                VALUES ('a1OldProd17', 'kept-1', 'S1abcdefghijklmnopqrstuvwxyz0123', 1, 'online', '10.0.0.1', '1.0'),
                       ('a1OldProd17', 'kept-2', 'S2abcdefghijklmnopqrstuvwxyz0123', 1, 'offline', NULL, NULL),
                       ('a1OldProd17', 'kept-3', 'S3abcdefghijklmnopqrstuvwxyz0123', 1, 'inactive', NULL, NULL);
            INSERT INTO device_groups(group_id, name, created_at) VALUES ('g-old', 'old group', 1);
            INSERT INTO group_members VALUES ('g-old', 'a1OldProd17', 'kept-1', 1), ('g-old', 'a1OldProd17', 'kept-2', 1);
            INSERT INTO apps(app_id, app_name, created_at) VALUES ('8800100000000017', 'oldapp', 1);
            INSERT INTO versions(app_id, version, v_major, v_minor, v_patch, object_key, size, md5, sha256, created_at)
                VALUES ('8800100000000017', '1.0.0', 1, 0, 0, 'k', 1, 'm', 's', 1);
            INSERT INTO tasks(task_id, app_id, version, group_id, created_at) VALUES ('t-old', '8800100000000017', '1.0.0', 'g-old', 1);
            INSERT INTO task_devices(task_id, product_key, device_name, state, code, updated_at)
                VALUES ('t-old', 'a1OldProd17', 'kept-1', 'succeeded', 0, 2), ('t-old', 'a1OldProd17', 'kept-2', 'pushed', NULL, 2);
            INSERT INTO device_apps VALUES ('a1OldProd17', 'kept-1', '8800100000000017', '1.0.0', 2);
        """)
        db.commit()
        db.close()
        emu.start(fresh=False)
        try:
            self.assertEqual(emu.get("/healthz").json["schemaVersion"], latest_schema())  # 0017 and after
            devices = emu.get("/api/v1/products/a1OldProd17/devices").json
            # (a start finds no device online: its broker is new)
            self.assertEqual({d["deviceName"]: d["status"] for d in devices["items"]},
                             {"kept-1": "offline", "kept-2": "offline", "kept-3": "inactive"})
            self.assertEqual(emu.get("/api/v1/products/a1OldProd17/devices?status=offline").json["total"], 2)
            self.assertEqual(emu.get("/api/v1/products/a1OldProd17/devices/kept-1").json["firmwareVersion"], "1.0")
            counts = emu.get("/api/v1/tasks/t-old").json["counts"]
            self.assertEqual((counts["total"], counts["succeeded"], counts["pushed"]), (2, 1, 1), counts)
            # the triggers made again keep counting
            r = emu.delete("/api/v1/products/a1OldProd17/devices/kept-2")
            self.assertIn(r.status, (200, 204), r)
            counts = emu.get("/api/v1/tasks/t-old").json["counts"]
            self.assertEqual((counts["total"], counts["pushed"]), (1, 0), counts)
            self.assertEqual(emu.get("/api/v1/products/a1OldProd17/devices?status=offline").json["total"], 1)
        finally:
            emu.stop()
        db = sqlite3.connect(path)
        db.execute("PRAGMA foreign_keys = ON")
        try:
            # the keys still delete a device's rows with it, and hold
            for table in ("task_devices", "group_members", "device_apps"):
                self.assertEqual(db.execute("SELECT device_name FROM %s ORDER BY 1" % table).fetchall(),
                                 [("kept-1",)], table)
            self.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(), [])
            db.execute("DELETE FROM devices WHERE device_name = 'kept-1'")
            self.assertEqual(db.execute("SELECT COUNT(*) FROM task_devices").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT firmware_version FROM devices WHERE device_name = 'kept-3'").fetchall(),
                             [(None,)])
        finally:
            db.close()

    def test_checks_of_per_device_tables_compare_in_place(self):
        """The status or state CHECK of each per-device table refuses other
        values, and writing the column builds no temporary b-tree (an IN
        list of three or more constants does, each time a statement runs)."""
        emu = Emulator("persist-checks").start()
        try:
            pk = emu.product("checks")
            emu.device(pk, "check-dev")
        finally:
            emu.stop()
        db = sqlite3.connect(os.path.join(emu.data_dir, "haas.db"))
        try:
            # each row by its key, as the link writes them
            for table, column, key in (("devices", "status", "product_key"), ("task_devices", "state", "task_id"),
                                       ("ota_job_devices", "state", "job_id"),
                                       ("rollout_devices", "state", "rollout_id")):
                sql = "EXPLAIN UPDATE %s SET %s = ?1 WHERE %s = ?2 AND device_name = ?3" % (table, column, key)
                if table != "devices":
                    sql += " AND product_key = ?4"
                ops = [row[1] for row in db.execute(sql, ("x",) * sql.count("?"))]
                self.assertIn("Program" if table in ("devices", "task_devices") else "MakeRecord", ops, table)
                self.assertNotIn("OpenEphemeral", ops, table)
            with self.assertRaises(sqlite3.IntegrityError):
                db.execute("UPDATE devices SET status = 'gone'")
            for table in ("task_devices", "ota_job_devices", "rollout_devices"):
                sql = db.execute("SELECT sql FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
                self.assertIn("CHECK (state = ", sql, table)
        finally:
            db.close()

    def test_migration_that_breaks_a_key_is_refused(self):
        """Migrations run with foreign keys off (SQLite's procedure for
        making a table again); a database whose keys do not hold after one
        is left as it was, and the error says why."""
        emu = Emulator("persist-keys")
        path = self._database_at(emu, 16)
        db = sqlite3.connect(path)  # foreign keys off: a member of a device that does not exist
        db.executescript("""
            INSERT INTO device_groups(group_id, name, created_at) VALUES ('g-bad', 'bad', 1);
            INSERT INTO group_members VALUES ('g-bad', 'a1NoSuchProd', 'ghost', 1);
        """)
        db.commit()
        db.close()
        r = subprocess.run([EMU, "--http-port", "0", "--data-dir", emu.data_dir], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("migration 0017_checks_without_lists.sql failed: it leaves 1 rows with a broken foreign key",
                      r.stderr)
        db = sqlite3.connect(path)
        try:
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 16)
            self.assertIn("CHECK (status IN", db.execute("SELECT sql FROM sqlite_schema WHERE name = 'devices'")
                          .fetchone()[0])
        finally:
            db.close()

    @staticmethod
    def _database_at(emu, version):
        """A database in emu's data directory made by the migrations up to
        version (its rows, not its journal mode: haas-emu sets that); its
        path."""
        shutil.rmtree(emu.data_dir, ignore_errors=True)
        os.makedirs(emu.data_dir)
        path = os.path.join(emu.data_dir, "haas.db")
        db = sqlite3.connect(path)
        db.execute("PRAGMA foreign_keys = ON")
        for name in sorted(f for f in os.listdir(MIGRATIONS) if f.endswith(".sql")):
            if int(name.split("_")[0]) <= version:
                with open(os.path.join(MIGRATIONS, name)) as f:
                    db.executescript(f.read())
        db.execute("PRAGMA user_version = %d" % version)
        db.commit()
        db.close()
        return path

    def test_newer_database_is_refused_clearly(self):
        emu = Emulator("persist-newer")
        emu.start()
        emu.stop()
        db = sqlite3.connect(os.path.join(emu.data_dir, "haas.db"))
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        r = subprocess.run([EMU, "--http-port", "0", "--data-dir", emu.data_dir], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("schema version 999, made by a newer haas-emu", r.stderr)

    def test_migration_files_are_numbered_in_order(self):
        nums = sorted(int(f.split("_")[0]) for f in os.listdir(MIGRATIONS) if f.endswith(".sql"))
        self.assertEqual(nums, list(range(1, len(nums) + 1)))

    def test_leftovers_of_a_crash_are_swept(self):
        emu = Emulator("persist-sweep").start()
        emu.app()
        emu.stop()
        stray_tmp = os.path.join(emu.data_dir, "tmp", "upload-abc123")
        stray_pkg = os.path.join(emu.data_dir, "packages", APP_ID, package_name("4.4.4"))
        os.makedirs(os.path.dirname(stray_pkg), exist_ok=True)
        for p in (stray_tmp, stray_pkg):
            with open(p, "wb") as f:
                f.write(b"half-done")
        emu.start(fresh=False)
        try:
            self.assertFalse(os.path.exists(stray_tmp))
            self.assertFalse(os.path.exists(stray_pkg))
            self.assertEqual(emu.get("/api/v1/apps/%s/versions" % APP_ID).json["total"], 0)
        finally:
            emu.stop()

    def test_bad_flags(self):
        for args, text in ((["--http-port", "70000"], "--http-port"), (["--nope"], "unknown option"),
                           (["--public-url", "http://no-port"], "explicit port"),
                           (["--max-package-size", "12q"], "--max-package-size")):
            r = subprocess.run([EMU] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(text, r.stderr)
        r = subprocess.run([EMU, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        for flag in ("--http-port", "HAAS_HTTP_PORT", "--url-ttl", "--oss-access-key-secret", "--broker"):
            self.assertIn(flag, r.stdout)
