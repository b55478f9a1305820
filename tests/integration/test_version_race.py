"""A DELETE of a version racing a re-upload of the same version (issue 11,
finding 6): the package file was unlinked after the database lock was
released, so an upload of the same version that got in between lost its
file - GET 200, download 404, for good. Now the file goes with the commit,
under the lock (store_commit_with). Every round races the two through the
real HTTP API; afterwards the version and its download must agree: both
200 with the uploaded bytes, or both 404."""
import hashlib
import threading
from urllib.parse import urlparse

from harness import APP_ID, EmulatorTest, make_package, package_name

ROUNDS = 300
LANES = 6  # versions raced side by side in each round (more threads, more interleavings)


class VersionRaceTest(EmulatorTest):
    emulator_args = ("--http-threads", "8")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()

    def path(self, version, suffix=""):
        return "/api/v1/apps/%s/versions/%s%s" % (APP_ID, version, suffix)

    def put_deprecated(self, version, data):
        """Uploads version (when it is not there) and deprecates it; returns
        its download path (signed URL without the host)."""
        r = self.emu.get(self.path(version))
        if r.status == 404:
            r = self.emu.upload(APP_ID, package_name(version), data)
            self.assertEqual(r.status, 201, r)
        r = self.emu.post(self.path(version, "/deprecate"))
        self.assertEqual(r.status, 200, r)
        url = urlparse(r.json["url"])
        return url.path + "?" + url.query

    def race(self, version, data, results, lane):
        """DELETE and upload of version at the same moment."""
        start = threading.Barrier(2)
        out = {}

        def delete():
            start.wait()
            out["delete"] = self.emu.delete(self.path(version)).status

        def upload():
            start.wait()
            out["upload"] = self.emu.upload(APP_ID, package_name(version), data).status

        threads = [threading.Thread(target=delete), threading.Thread(target=upload)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results[lane] = out

    def check_agreement(self, version, data, download, outcome):
        """The version and its file agree after a race."""
        got = self.emu.get(self.path(version))
        d = self.emu.get(download)
        if got.status == 200:
            self.assertEqual(d.status, 200, "version %s is listed but its file is gone (%s)" % (version, outcome))
            self.assertEqual(got.json["md5"], hashlib.md5(data).hexdigest(), outcome)
            self.assertEqual(d.body, data, outcome)
        else:
            self.assertEqual((got.status, d.status), (404, 404), outcome)

    def test_delete_and_reupload_never_leave_a_version_without_its_file(self):
        versions = ["7.0.%d" % lane for lane in range(LANES)]
        outcomes = {}
        for n in range(ROUNDS):
            packages = [make_package({"main.py": "print(%d)\n" % n}, version=v) for v in versions]
            downloads = [self.put_deprecated(v, p) for v, p in zip(versions, packages)]
            results = [None] * LANES
            lanes = [threading.Thread(target=self.race, args=(v, p, results, i))
                     for i, (v, p) in enumerate(zip(versions, packages))]
            for t in lanes:
                t.start()
            for t in lanes:
                t.join()
            for v, p, d, out in zip(versions, packages, downloads, results):
                key = (out["delete"], out["upload"])
                outcomes[key] = outcomes.get(key, 0) + 1
                self.check_agreement(v, p, d, "round %d: DELETE %s, upload %s" % (n, key[0], key[1]))
        # both orders happened: the race was run, not one side always first
        self.assertIn((204, 201), outcomes, outcomes)
        # nothing left behind: every file on disk belongs to a version that exists
        on_disk = sorted(f.rsplit("/", 1)[1] for f in self.emu.packages_on_disk())
        listed = sorted(v["fileName"] for v in self.emu.get("/api/v1/apps/%s/versions?limit=500" % APP_ID).json["items"])
        self.assertEqual(on_disk, listed)


if __name__ == "__main__":
    import unittest
    unittest.main()
