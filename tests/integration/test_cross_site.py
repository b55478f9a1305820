"""Cross-site writes (issue 11, finding 7): on loopback the management API
needs no token, so a request that writes must name haas-emu as its Host
(DNS rebinding), come from its own console when it carries an Origin (any
page of another site), and send JSON as application/json (a cross-site
form or text/plain fetch needs no preflight). Reads and package downloads
stay open (server/src/http_guard.h)."""
import json
import uuid

from harness import APP_ID, EmulatorTest, make_package, package_name

JSON = {"Content-Type": "application/json"}


class CrossSiteTest(EmulatorTest):
    emulator_args = ("--public-url", "http://haas.example:18080", "--tls-san", "emu.lan,10.9.8.7")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()
        cls.own = "127.0.0.1:%d" % cls.emu.port

    def products(self):
        return self.emu.get("/api/v1/products?limit=500").json["total"]

    def create(self, headers, body=None):
        body = json.dumps({"name": "p-" + uuid.uuid4().hex[:8]}).encode() if body is None else body
        return self.emu.post("/api/v1/products", body=body, headers=headers)

    def test_the_reported_request_is_refused(self):
        """text/plain, Origin http://evil.example, Host evil.example: what
        a page of any site (or one rebound to 127.0.0.1) can send."""
        before = self.products()
        foreign = {"Origin": "http://evil.example", "Host": "evil.example"}
        r = self.create(dict(foreign, **{"Content-Type": "text/plain"}))
        self.assertEqual((r.status, r.code), (403, "ForbiddenHost"), r)
        self.assertEqual(self.products(), before)
        # reads and package downloads stay open, whatever the page
        self.assertEqual(self.emu.get("/api/v1/products", headers=foreign).status, 200)
        self.assertEqual(self.emu.get("/healthz", headers=foreign).status, 200)
        data = make_package({}, version="4.0.0")
        r = self.emu.upload(APP_ID, package_name("4.0.0"), data)
        self.assertEqual(r.status, 201, r)
        d = self.emu.get(r.json["url"].split("18080", 1)[1], headers=foreign)
        self.assertEqual((d.status, d.body), (200, data))

    def test_a_foreign_host_is_refused(self):
        before = self.products()
        for host in ("evil.example", "evil.example:%d" % self.emu.port, "127.0.0.1.evil.example",
                     "localhost.evil.example", "[::2]", "", "127.0.0.1:80:80", "local host"):
            r = self.create(dict(JSON, Host=host))
            self.assertEqual((r.status, r.code), (403, "ForbiddenHost"), host)
        self.assertEqual(self.products(), before)

    def test_a_foreign_origin_is_refused(self):
        before = self.products()
        for origin in ("http://evil.example", "null", "http://127.0.0.1:%d.evil.example" % self.emu.port,
                       "http://127.0.0.1:1", "http://localhost:%d" % self.emu.port, "file://",
                       "http://127.0.0.1:%d/x" % self.emu.port, "ftp://%s" % self.own):
            r = self.create(dict(JSON, Origin=origin))
            self.assertEqual((r.status, r.code), (403, "ForbiddenOrigin"), origin)
        self.assertEqual(self.products(), before)

    def test_every_kind_of_write_is_guarded(self):
        evil = {"Origin": "http://evil.example"}
        pk = self.emu.product("guarded")
        self.emu.device(pk, "guarded-1")
        data = make_package({}, version="3.0.0")
        self.assertEqual(self.emu.upload(APP_ID, package_name("3.0.0"), data).status, 201)
        writes = [
            ("DELETE", "/api/v1/products/%s/devices/guarded-1" % pk, None, {}),
            ("DELETE", "/api/v1/products/" + pk, None, {}),
            ("POST", "/api/v1/apps/%s/versions/3.0.0/deprecate" % APP_ID, None, {}),
            ("POST", "/api/v1/apps/%s/versions?filename=%s" % (APP_ID, package_name("3.0.1")),
             make_package({}, version="3.0.1"), {"Content-Type": "application/gzip"}),
            ("POST", "/api/v1/groups", b'{"name":"g"}', JSON),
            ("PUT", "/api/v1/products/" + pk, b"{}", JSON),
        ]
        for method, path, body, headers in writes:
            r = self.emu.request(method, path, body=body, headers=dict(headers, **evil))
            self.assertEqual((r.status, r.code), (403, "ForbiddenOrigin"), (method, path))
            r = self.emu.request(method, path, body=body, headers=dict(headers, Host="evil.example"))
            self.assertEqual((r.status, r.code), (403, "ForbiddenHost"), (method, path))
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/guarded-1" % pk).status, 200)
        self.assertEqual(self.emu.get("/api/v1/apps/%s/versions/3.0.0" % APP_ID).json["status"], "testing")
        self.assertEqual(self.emu.get("/api/v1/apps/%s/versions/3.0.1" % APP_ID).status, 404)

    def test_json_bodies_need_their_content_type(self):
        before = self.products()
        for ctype in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                      "application/jsonx", "text/json"):
            r = self.create({"Content-Type": ctype} if ctype else {})
            self.assertEqual((r.status, r.code), (415, "UnsupportedMediaType"), ctype)
        self.assertEqual(self.products(), before)
        for ctype in ("application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"):
            r = self.create({"Content-Type": ctype})
            self.assertEqual(r.status, 201, (ctype, r))

    def test_the_emulator_names_and_its_own_origins_are_allowed(self):
        port = self.emu.port
        hosts = ["127.0.0.1", self.own, "localhost", "LocalHost:%d" % port, "[::1]", "[::1]:%d" % port,
                 "haas.example", "haas.example:18080", "emu.lan", "10.9.8.7:%d" % port]
        for host in hosts:
            r = self.create(dict(JSON, Host=host))
            self.assertEqual(r.status, 201, (host, r))
        origins = [(self.own, "http://" + self.own), (self.own, "https://" + self.own),
                   ("localhost:%d" % port, "http://localhost:%d" % port),
                   ("[::1]:%d" % port, "http://[::1]:%d" % port),
                   (self.own, "http://haas.example:18080"),  # pages of the public URL
                   ("localhost", "http://localhost:80")]
        for host, origin in origins:
            r = self.create(dict(JSON, Host=host, Origin=origin))
            self.assertEqual(r.status, 201, (host, origin, r))
        # but only exactly those: another port of the public host is another site
        r = self.create(dict(JSON, Origin="http://haas.example:18081"))
        self.assertEqual((r.status, r.code), (403, "ForbiddenOrigin"))

    def test_uploads_keep_their_types(self):
        for n, ctype in enumerate(("application/gzip", "application/octet-stream")):
            v = "5.0.%d" % n
            r = self.emu.post("/api/v1/apps/%s/versions?filename=%s" % (APP_ID, package_name(v)),
                              body=make_package({}, version=v), headers={"Content-Type": ctype,
                                                                         "Origin": "http://" + self.own})
            self.assertEqual(r.status, 201, (ctype, r))
        v = "5.0.9"
        boundary = "b0undary"
        body = (("--%s\r\nContent-Disposition: form-data; name=\"package\"; filename=\"%s\"\r\n"
                 "Content-Type: application/gzip\r\n\r\n" % (boundary, package_name(v))).encode()
                + make_package({}, version=v) + ("\r\n--%s--\r\n" % boundary).encode())
        headers = {"Content-Type": "multipart/form-data; boundary=" + boundary}
        r = self.emu.post("/api/v1/apps/%s/versions" % APP_ID, body=body, headers=dict(headers, Origin="null"))
        self.assertEqual((r.status, r.code), (403, "ForbiddenOrigin"))  # a form of a sandboxed page
        r = self.emu.post("/api/v1/apps/%s/versions" % APP_ID, body=body, headers=headers)
        self.assertEqual(r.status, 201, r)

    def test_refusals_are_error_json(self):
        r = self.create({"Content-Type": "text/plain", "Host": "evil.example"})
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertIn("evil.example", r.json["message"])


class BoundToEveryAddressTest(EmulatorTest):
    """Bound to 0.0.0.0 the emulator answers on every address of the
    machine: an IP literal Host is never a rebound name, so it passes (a
    token is needed there anyway); names still must be its own."""
    emulator_args = ("--bind", "0.0.0.0", "--api-token", "tok-0123456789")

    def test_ip_literals_pass_and_names_do_not(self):
        auth = dict(JSON, Authorization="Bearer tok-0123456789")
        for host in ("192.0.2.10:8080", "[2001:db8::1]:8080", "127.0.0.1"):
            r = self.emu.post("/api/v1/products", {"name": "x"}, headers=dict(auth, Host=host))
            self.assertEqual(r.status, 201, (host, r))
        r = self.emu.post("/api/v1/products", {"name": "x"}, headers=dict(auth, Host="evil.example"))
        self.assertEqual((r.status, r.code), (403, "ForbiddenHost"))
        r = self.emu.post("/api/v1/products", {"name": "x"},
                          headers=dict(auth, Host="192.0.2.10:8080", Origin="http://192.0.2.10:3000"))
        self.assertEqual((r.status, r.code), (403, "ForbiddenOrigin"))


if __name__ == "__main__":
    import unittest
    unittest.main()
