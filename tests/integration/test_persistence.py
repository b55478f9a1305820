"""The data directory: restart keeps everything, one owner at a time,
migrations bring an older database up to date."""
import os
import shutil
import sqlite3
import subprocess
import unittest

from harness import APP_ID, EMU, ROOT, Emulator, make_package, package_name

MIGRATIONS = os.path.join(ROOT, "schema", "migrations")


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
        shutil.rmtree(emu.data_dir, ignore_errors=True)
        os.makedirs(emu.data_dir)
        db = sqlite3.connect(os.path.join(emu.data_dir, "haas.db"))
        with open(os.path.join(MIGRATIONS, "0001_init.sql")) as f:
            db.executescript(f.read())
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO products VALUES ('a1OldProd01', 'from v1', 1700000000)")
        db.commit()
        db.close()
        emu.start(fresh=False)
        try:
            self.assertEqual(emu.get("/api/v1/products/a1OldProd01").json["name"], "from v1")
            latest = max(int(f.split("_")[0]) for f in os.listdir(MIGRATIONS) if f.endswith(".sql"))
            self.assertEqual(emu.get("/healthz").json["schemaVersion"], latest)
            db = sqlite3.connect(os.path.join(emu.data_dir, "haas.db"))
            self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
            db.close()
        finally:
            emu.stop()

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
