"""Package downloads: OSS V1 presigned URLs (docs/protocol.md section 8), range
requests, and the stock HaaS downloader's HTTP/1.0 request."""
import base64
import gzip
import hashlib
import hmac
import io
import os
import socket
import tarfile
import time
import unittest
from urllib.parse import quote, urlparse

from harness import APP_ID, OSS_SECRET, Emulator, EmulatorTest, make_package, package_name, wait_for
from mqtt_device import Device

FILES = {"main.py": "print('new version upgrade success.')\n", "lib/helper.py": "X = 42\n",
         "res/data.bin": bytes(range(256)) * 40}


def sign(expires, resource, secret=OSS_SECRET):
    mac = hmac.new(secret.encode(), ("GET\n\n\n%d\n%s" % (expires, resource)).encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class DownloadTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()
        cls.data = make_package(FILES)
        r = cls.emu.upload(APP_ID, package_name(), cls.data)
        assert r.status == 201, r
        cls.version = r.json
        url = urlparse(r.json["url"])
        cls.path = url.path
        cls.target = url.path + "?" + url.query
        cls.key_id = dict(p.split("=", 1) for p in url.query.split("&"))["OSSAccessKeyId"]

    def url(self, expires=None, resource=None, key_id=None, secret=OSS_SECRET, path=None):
        expires = int(time.time()) + 600 if expires is None else expires
        path = path or self.path
        sig = sign(expires, resource or path, secret)
        return "%s?Expires=%d&OSSAccessKeyId=%s&Signature=%s" % (path, expires, key_id or self.key_id,
                                                                 quote(sig, safe=""))

    def assert_oss_error(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers["content-type"].startswith("application/xml"))
        self.assertIn(b"<Code>%s</Code>" % code.encode(), r.body)
        self.assertIn(b"<Message>", r.body)

    def test_signed_url_from_api_downloads_the_package(self):
        r = self.emu.get(self.target)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.data)
        self.assertEqual(int(r.headers["content-length"]), len(self.data))
        self.assertEqual(r.headers["accept-ranges"], "bytes")
        self.assertEqual(r.headers["etag"], '"%s"' % hashlib.md5(self.data).hexdigest().upper())
        self.assertNotIn("transfer-encoding", r.headers)

    def test_url_we_sign_ourselves_is_accepted(self):
        self.assertEqual(self.emu.get(self.url()).body, self.data)

    def test_expired_url(self):
        r = self.emu.get(self.url(expires=int(time.time()) - 5))
        self.assert_oss_error(r, 403, "AccessDenied")
        self.assertIn(b"expired", r.body)

    def test_url_expires_after_the_configured_ttl(self):
        # --url-ttl is honoured: the API's Expires is now + ttl (3600 here);
        # a URL whose Expires passed while in use is refused.
        expires = int(time.time()) + 1
        url = self.url(expires=expires)
        self.assertEqual(self.emu.get(url).status, 200)
        wait_for(lambda: self.emu.get(url).status == 403, timeout=5, what="the URL to expire")
        self.assertGreaterEqual(time.time(), expires)
        self.assert_oss_error(self.emu.get(url), 403, "AccessDenied")

    def test_wrong_signature(self):
        self.assert_oss_error(self.emu.get(self.url(secret="not-the-secret")), 403, "SignatureDoesNotMatch")
        good = self.url()
        tampered = good.replace("Expires=", "Expires=1")  # a later expiry than was signed
        self.assert_oss_error(self.emu.get(tampered), 403, "SignatureDoesNotMatch")
        other = self.url(resource="/haas-emu/%s/other.tar.gz" % APP_ID)  # signed for another object
        self.assert_oss_error(self.emu.get(other), 403, "SignatureDoesNotMatch")

    def test_wrong_key_id_and_missing_parameters(self):
        self.assert_oss_error(self.emu.get(self.url(key_id="LTAIsomeoneelse")), 403, "InvalidAccessKeyId")
        self.assert_oss_error(self.emu.get(self.path), 403, "AccessDenied")
        no_sig = self.url().split("&Signature=")[0]
        self.assert_oss_error(self.emu.get(no_sig), 403, "AccessDenied")
        bad_exp = self.url().replace("Expires=", "Expires=x")
        self.assert_oss_error(self.emu.get(bad_exp), 400, "InvalidArgument")

    def test_unknown_bucket_and_object(self):
        self.assert_oss_error(self.emu.get(self.url(path="/other-bucket/x.tar.gz")), 404, "NoSuchBucket")
        missing = "/haas-emu/%s/%s" % (APP_ID, package_name("9.9.9"))
        self.assert_oss_error(self.emu.get(self.url(path=missing)), 404, "NoSuchKey")

    def range_get(self, spec, **headers):
        headers["Range"] = spec
        return self.emu.get(self.target, headers=headers)

    def test_single_ranges(self):
        n = len(self.data)
        for spec, first, last in (("bytes=0-9", 0, 9), ("bytes=10-", 10, n - 1), ("bytes=-5", n - 5, n - 1),
                                  ("bytes=100-%d" % (n + 1000), 100, n - 1), ("bytes=-%d" % (n + 9), 0, n - 1)):
            with self.subTest(spec=spec):
                r = self.range_get(spec)
                self.assertEqual(r.status, 206, r)
                self.assertEqual(r.body, self.data[first:last + 1])
                self.assertEqual(r.headers["content-range"], "bytes %d-%d/%d" % (first, last, n))
                self.assertEqual(int(r.headers["content-length"]), last - first + 1)

    def test_unsatisfiable_range_is_416(self):
        n = len(self.data)
        for spec in ("bytes=%d-" % n, "bytes=%d-%d" % (n + 5, n + 10), "bytes=-0"):
            r = self.range_get(spec)
            self.assertEqual(r.status, 416, spec)
            self.assertEqual(r.headers["content-range"], "bytes */%d" % n)

    def test_ignored_ranges_give_the_whole_file(self):
        for spec in ("bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=abc"):
            r = self.range_get(spec)
            self.assertEqual((r.status, r.body), (200, self.data), spec)

    def test_if_range(self):
        etag = '"%s"' % hashlib.md5(self.data).hexdigest().upper()
        r = self.range_get("bytes=0-3", **{"If-Range": etag})
        self.assertEqual((r.status, r.body), (206, self.data[:4]))
        r = self.range_get("bytes=0-3", **{"If-Range": '"0000"'})
        self.assertEqual((r.status, r.body), (200, self.data))
        last_modified = self.emu.get(self.target).headers["last-modified"]
        r = self.range_get("bytes=0-3", **{"If-Range": last_modified})
        self.assertEqual(r.status, 206)
        r = self.range_get("bytes=0-3", **{"If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
        self.assertEqual(r.status, 200)

    def test_resume_after_a_cut(self):
        # What Link SDK C 4.x does after a dropped connection: ask for the rest.
        sock = socket.create_connection(("127.0.0.1", self.emu.port))
        sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (self.target, self.emu.port)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        part = sock.recv(len(self.data) // 2)
        sock.close()
        self.assertGreater(len(part), 0)
        self.assertLess(len(part), len(self.data))
        rest = self.range_get("bytes=%d-" % len(part))
        self.assertEqual(rest.status, 206)
        self.assertEqual(part + rest.body, self.data)

    def test_head(self):
        r = self.emu.request("HEAD", self.target)
        self.assertEqual((r.status, r.body, int(r.headers["content-length"])), (200, b"", len(self.data)))

    def test_stock_haas_downloader(self):
        """Raw socket, HTTP/1.0, Host with port, read until close; the body
        must gunzip and untar to the uploaded files."""
        sock = socket.create_connection(("127.0.0.1", self.emu.port), timeout=10)
        sock.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % (self.target, self.emu.port)).encode())
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
        sock.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.assertRegex(lines[0], r"^HTTP/1\.[01] 200 ")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        self.assertNotIn("transfer-encoding", headers)
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertEqual(body, self.data)
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as tar:
            got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        for name, content in FILES.items():
            self.assertEqual(got[name], content.encode() if isinstance(content, str) else content)
        self.assertIn("manifest.json", got)


class DownloadOwnerTest(EmulatorTest):
    """Each HTTP thread keeps what a download looked up (the package, the
    task and device it is noted under) until the database changes
    (download.c, store_generation). One thread, so that the two downloads
    below meet the same memo."""
    emulator_args = ("--http-threads", "1")

    def test_a_download_after_a_push_is_noted_under_the_pushed_device(self):
        emu = self.emu
        emu.app()
        r = emu.upload(APP_ID, package_name(), make_package(FILES))
        self.assertEqual(r.status, 201, r)
        url = urlparse(r.json["url"])
        target = url.path + "?" + url.query
        pk = emu.product("owner")
        secret = emu.device(pk, "owner-1")["deviceSecret"]
        dev = Device(emu.mqtt_port, pk, "owner-1", secret).connect()
        try:
            wait_for(lambda: emu.get("/api/v1/products/%s/devices/owner-1" % pk).json["ip"] == "127.0.0.1",
                     what="the device's address recorded")
            gid = emu.post("/api/v1/groups", {"name": "owner"}).json["groupId"]
            self.assertEqual(emu.post("/api/v1/groups/%s/devices" % gid,
                                      {"devices": [{"productKey": pk, "deviceName": "owner-1"}]}).status, 200)
            tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid}).json["taskId"]

            def downloads():
                events = emu.get("/api/v1/tasks/%s/timeline" % tid).json["items"]
                return [e for e in events if e["kind"] == "download"]

            # before the push, the task has not moved the device: the
            # download is noted under no task
            self.assertEqual(emu.get(target).status, 200)
            self.assertEqual(downloads(), [])
            self.assertEqual(emu.post("/api/v1/tasks/%s/push" % tid).json["pushed"], 1)
            dev.wait_push()
            # after it, the same download from the same address is the
            # device's, though nothing else was asked in between
            self.assertEqual(emu.get(target).status, 200)
            wait_for(lambda: len(downloads()) == 1, what="the download on the task's timeline")
            self.assertEqual(downloads()[0]["deviceName"], "owner-1")
        finally:
            dev.close()


class HttpThreadsTest(unittest.TestCase):
    """The HTTP worker threads of each listener (HTTP, HTTPS): as many as
    the CPUs haas-emu may run on, at least 2 and at most 4, unless
    --http-threads says (config.c, default_http_threads). More threads than
    CPUs only wake for connections another thread accepts. Counted by name
    in /proc: libmicrohttpd calls a pool's threads "MHD-worker"."""

    def workers(self, name, expected, args=(), cpus=None):
        """The MHD-worker threads of a haas-emu started with args, on cpus
        (a set of CPU numbers) when given, once there are expected of them
        or more: each thread names itself when it first runs, which may be
        after /healthz is answered."""
        kept = os.sched_getaffinity(0)
        if cpus is not None:
            os.sched_setaffinity(0, cpus)  # this thread's; haas-emu inherits it
        try:
            emu = Emulator(name, args=args).start()
        finally:
            os.sched_setaffinity(0, kept)
        self.addCleanup(emu.stop)
        task = "/proc/%d/task" % emu.proc.pid

        def count():
            names = []
            for tid in os.listdir(task):
                try:
                    with open(os.path.join(task, tid, "comm")) as f:
                        names.append(f.read().strip())
                except FileNotFoundError:
                    pass  # a thread that ended
            return names.count("MHD-worker")
        wait_for(lambda: count() >= expected, timeout=10, what="%d MHD-worker threads" % expected)
        return count()

    def test_one_a_cpu_at_most_four(self):
        expected = 2 * min(max(len(os.sched_getaffinity(0)), 2), 4)
        self.assertEqual(self.workers("threads-default", expected), expected)

    def test_at_least_two_on_one_cpu(self):
        one = {min(os.sched_getaffinity(0))}
        self.assertEqual(self.workers("threads-one-cpu", 2 * 2, cpus=one), 2 * 2)

    def test_the_option_wins(self):
        self.assertEqual(self.workers("threads-three", 2 * 3, args=("--http-threads", "3")), 2 * 3)
