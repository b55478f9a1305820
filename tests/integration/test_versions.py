"""REST API: versions of an app (tutorial 5.3 and 5.7): upload (raw body and
multipart), list, get, deprecate, delete."""
import hashlib
import os
import time
import uuid
from urllib.parse import parse_qs, urlparse

from harness import APP_ID, EmulatorTest, make_package, package_name


def multipart(field, filename, data):
    boundary = uuid.uuid4().hex
    body = (("--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
             "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
             "Content-Type: application/gzip\r\n\r\n") % (boundary, boundary, field, filename)).encode()
    body += data + ("\r\n--%s--\r\n" % boundary).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}


class VersionsTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()

    def versions_path(self, suffix=""):
        return "/api/v1/apps/%s/versions%s" % (APP_ID, suffix)

    def test_upload_raw_body(self):
        data = make_package({"main.py": "print('0.0.2')\n"}, version="0.0.2")
        t0 = int(time.time())
        r = self.emu.upload(APP_ID, package_name("0.0.2"), data)
        self.assertEqual(r.status, 201, r)
        v = r.json
        self.assertEqual((v["appId"], v["version"], v["status"], v["size"]), (APP_ID, "0.0.2", "testing", len(data)))
        self.assertEqual(v["md5"], hashlib.md5(data).hexdigest())
        self.assertEqual(v["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(v["fileName"], package_name("0.0.2"))
        url = urlparse(v["url"])
        self.assertEqual(url.scheme, "http")
        self.assertEqual(url.port, self.emu.port)  # explicit port, always
        self.assertEqual(url.path, "/haas-emu/%s/%s" % (APP_ID, package_name("0.0.2")))
        q = parse_qs(url.query)
        self.assertEqual(sorted(q), ["Expires", "OSSAccessKeyId", "Signature"])
        self.assertAlmostEqual(int(q["Expires"][0]), t0 + 3600, delta=5)
        path = os.path.join(self.emu.data_dir, "packages", APP_ID, package_name("0.0.2"))
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_upload_multipart_takes_the_file_name_from_the_part(self):
        data = make_package({}, version="0.1.0")
        body, headers = multipart("package", "C:\\fakepath\\" + package_name("0.1.0"), data)
        r = self.emu.post(self.versions_path(), body=body, headers=headers)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["version"], r.json["md5"]), ("0.1.0", hashlib.md5(data).hexdigest()))

    def test_multipart_without_package_field(self):
        body, headers = multipart("other", package_name("0.1.1"), make_package({}, version="0.1.1"))
        r = self.emu.post(self.versions_path(), body=body, headers=headers)
        self.assertEqual((r.status, r.code), (400, "MissingPackage"))
        self.assertEqual(self.emu.get(self.versions_path("/0.1.1")).code, "VersionNotFound")

    def test_versions_are_unique_numerically(self):
        self.assertEqual(self.emu.upload(APP_ID, package_name("1.2.3"), make_package({}, version="1.2.3")).status, 201)
        r = self.emu.upload(APP_ID, package_name("1.2.3"), make_package({}, version="1.2.3"))
        self.assertEqual((r.status, r.code), (409, "VersionExists"))
        r = self.emu.upload(APP_ID, package_name("1.02.3"), make_package({}, version="1.02.3"))
        self.assertEqual((r.status, r.code), (409, "VersionExists"))

    def test_list_is_newest_first_numerically(self):
        for ver in ("3.0.9", "3.0.10", "3.0.2"):
            self.assertEqual(self.emu.upload(APP_ID, package_name(ver), make_package({}, version=ver)).status, 201)
        items = self.emu.get(self.versions_path("?limit=500")).json["items"]
        order = [v["version"] for v in items if v["version"].startswith("3.0.")]
        self.assertEqual(order, ["3.0.10", "3.0.9", "3.0.2"])
        self.assertTrue(all("url" in v for v in items))
        self.assertEqual(self.emu.get("/api/v1/apps/" + APP_ID).json["latestVersion"], items[0]["version"])

    def test_get_unknown(self):
        self.assertEqual(self.emu.get(self.versions_path("/9.9.8")).code, "VersionNotFound")
        self.assertEqual(self.emu.get("/api/v1/apps/8800100012345678/versions/1.0.0").code, "AppNotFound")
        self.assertEqual(self.emu.get("/api/v1/apps/8800100012345678/versions").code, "AppNotFound")
        r = self.emu.upload("8800100012345678", package_name("1.0.0", "nope", "8800100012345678"), make_package({}))
        self.assertEqual((r.status, r.code), (404, "AppNotFound"))

    def test_deprecate_then_delete(self):
        data = make_package({}, version="5.0.0")
        self.assertEqual(self.emu.upload(APP_ID, package_name("5.0.0"), data).status, 201)
        path = os.path.join(self.emu.data_dir, "packages", APP_ID, package_name("5.0.0"))
        self.assertTrue(os.path.exists(path))
        r = self.emu.delete(self.versions_path("/5.0.0"))
        self.assertEqual((r.status, r.code), (409, "VersionNotDeprecated"))
        r = self.emu.post(self.versions_path("/5.0.0/deprecate"))
        self.assertEqual((r.status, r.json["status"]), (200, "deprecated"))
        r = self.emu.post(self.versions_path("/5.0.0/deprecate"))  # idempotent
        self.assertEqual((r.status, r.json["status"]), (200, "deprecated"))
        self.assertEqual(self.emu.delete(self.versions_path("/5.0.0")).status, 204)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(self.emu.get(self.versions_path("/5.0.0")).code, "VersionNotFound")
        self.assertEqual(self.emu.delete(self.versions_path("/5.0.0")).code, "VersionNotFound")
        self.assertEqual(self.emu.post(self.versions_path("/5.0.0/deprecate")).code, "VersionNotFound")
        # the version number is free again (tutorial 5.7 step 3)
        self.assertEqual(self.emu.upload(APP_ID, package_name("5.0.0"), data).status, 201)

    def test_large_upload_streams(self):
        """A 24 MiB upload and its download do not grow the server's memory by
        anything like the package size."""
        data = make_package({"blob.bin": os.urandom(24 << 20)}, version="7.0.0")

        def hwm_kib():
            with open("/proc/%d/status" % self.emu.proc.pid) as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))

        self.emu.get("/healthz")
        before = hwm_kib()
        r = self.emu.upload(APP_ID, package_name("7.0.0"), data)
        self.assertEqual(r.status, 201, r)
        got = self.emu.get(urlparse(r.json["url"])._replace(scheme="", netloc="").geturl())
        self.assertEqual(got.body, data)
        grown = hwm_kib() - before
        self.assertLess(grown, 8 * 1024, "peak memory grew by %d KiB for a %d KiB package" % (grown, len(data) >> 10))
