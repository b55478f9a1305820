"""A full disk (issue 11, finding 9): writes that need room are answered
507 InsufficientStorage (not 500), and deleting still works - a device, a
product, a version (deprecated first) - because the store holds room back
for deletes (server/src/store_reserve.h); the room a deleted package frees
lets writes work again.

The data directory is a small tmpfs, so this needs root (CI runs as root;
`mount -t tmpfs` is all it does) and is skipped otherwise."""
import os
import shutil
import subprocess
import unittest

from harness import APP_ID, OUT, Emulator, make_package, package_name

MOUNT = os.path.join(OUT, "full-disk")
SIZE_MB = 32


def fill(path):
    """Writes path until the disk has no byte left."""
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass


class FullDiskTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to mount a %d MiB tmpfs as a full disk (CI runs as root)" % SIZE_MB)
        os.makedirs(MOUNT, exist_ok=True)
        subprocess.run(["umount", MOUNT], capture_output=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % SIZE_MB, "tmpfs", MOUNT], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise unittest.SkipTest("cannot mount a tmpfs here (%s)" % r.stderr.strip())
        cls.filler = os.path.join(MOUNT, "filler")
        cls.emu = Emulator(cls.__module__ + "." + cls.__name__, data_dir=os.path.join(MOUNT, "data")).start()

    @classmethod
    def tearDownClass(cls):
        try:
            if os.path.exists(cls.filler):
                os.unlink(cls.filler)
            cls.emu.stop()
        finally:
            subprocess.run(["umount", "-l", MOUNT], capture_output=True)
            shutil.rmtree(MOUNT, ignore_errors=True)

    def test_writes_are_507_and_deletes_still_work(self):
        emu = self.emu
        pk = emu.product("full")
        for i in range(20):
            emu.device(pk, "dev-%02d" % i)
        emu.app()
        big = make_package({"data.bin": os.urandom(2 << 20)}, version="0.0.2")
        self.assertEqual(emu.upload(APP_ID, package_name("0.0.2"), big).status, 201)
        self.assertEqual(emu.upload(APP_ID, package_name("0.0.3"), make_package({}, version="0.0.3")).status, 201)
        fill(self.filler)

        for path, body in (("/api/v1/products", {"name": "more"}), ("/api/v1/groups", {"name": "more"}),
                           ("/api/v1/products/%s/devices" % pk, {"deviceName": "dev-more"})):
            r = emu.post(path, body)
            self.assertEqual((r.status, r.code), (507, "InsufficientStorage"), (path, r))
        r = emu.upload(APP_ID, package_name("0.0.4"), make_package({}, version="0.0.4"))
        self.assertEqual((r.status, r.code), (507, "InsufficientStorage"), r)

        # deleting works on the full disk: a device, a product with its devices
        self.assertEqual(emu.delete("/api/v1/products/%s/devices/dev-00" % pk).status, 204)
        self.assertEqual(emu.get("/api/v1/products/%s/devices/dev-00" % pk).status, 404)
        self.assertEqual(emu.delete("/api/v1/products/" + pk).status, 204)
        self.assertEqual(emu.get("/api/v1/products/" + pk).status, 404)
        # and a version, deprecated first; its file goes with it
        for version in ("0.0.3", "0.0.2"):
            r = emu.post("/api/v1/apps/%s/versions/%s/deprecate" % (APP_ID, version))
            self.assertEqual(r.status, 200, r)
            r = emu.delete("/api/v1/apps/%s/versions/%s" % (APP_ID, version))
            self.assertEqual(r.status, 204, r)
            self.assertEqual(emu.get("/api/v1/apps/%s/versions/%s" % (APP_ID, version)).status, 404)
        self.assertEqual(emu.packages_on_disk(), [])

        # the 2 MiB the package held are room again: small writes work
        r = emu.post("/api/v1/products", {"name": "after"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(emu.get("/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
