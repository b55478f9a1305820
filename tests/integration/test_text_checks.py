"""Text in and out of the API (issue 11, finding 9): a NUL inside a JSON
string is refused rather than cut ("ab\\u0000cd" stored as "ab"), so are
raw control characters and bytes that are not well-formed UTF-8 (an
encoded surrogate, an overlong form); and every error body is valid UTF-8
JSON, even when it echoes a path or a file name made of other bytes
(server/src/json_text.h)."""
import json
from urllib.parse import quote

from harness import APP_ID, EmulatorTest, make_package, package_name

JSON = {"Content-Type": "application/json"}


def strict_json(body):
    """The body as JSON, decoded as strict UTF-8 (raises otherwise)."""
    return json.loads(body.decode("utf-8", "strict"))


class TextChecksTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pk = cls.emu.product("text")
        cls.emu.app()

    def names(self):
        items = self.emu.get("/api/v1/products?limit=500").json["items"]
        return [p["name"] for p in items]

    def test_a_nul_in_a_string_is_refused_not_cut(self):
        before = self.names()
        for body in ({"name": "ab\u0000cd"}, {"name": "\u0000"}, {"name": "ok", "productKey": "a1Abcdefg\u0000x"}):
            r = self.emu.post("/api/v1/products", body)
            self.assertEqual((r.status, r.code), (400, "InvalidJson"), body)
        r = self.emu.post("/api/v1/products/%s/devices" % self.pk, {"deviceName": "dev-1\u0000junk"})
        self.assertEqual((r.status, r.code), (400, "InvalidJson"))
        r = self.emu.post("/api/v1/groups", {"name": "g\u0000"})
        self.assertEqual((r.status, r.code), (400, "InvalidJson"))
        r = self.emu.post("/api/v1/apps", {"appName": "nul", "appId": "8800100000000077", "description": "a\u0000b"})
        self.assertEqual((r.status, r.code), (400, "InvalidJson"))
        self.assertEqual(self.names(), before)
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/dev-1" % self.pk).status, 404)
        # an escaped backslash before "u0000" is no NUL: "a\\u0000" is the text a\u0000
        r = self.emu.post("/api/v1/products", b'{"name":"a\\\\u0000"}', headers=JSON)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["name"], "a\\u0000")

    def test_raw_control_characters_are_refused(self):
        for raw in (b'{"name":"a\x00b"}', b'{"name":"a\x01b"}', b'{"name":"a\nb"}', b'{"na\x00me":"x"}'):
            r = self.emu.post("/api/v1/products", raw, headers=JSON)
            self.assertEqual((r.status, r.code), (400, "InvalidJson"), raw)

    def test_bytes_that_are_not_utf8_are_refused(self):
        before = self.names()
        cases = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\xbd\xed\xb8\x80",  # encoded surrogates (CESU-8)
                 b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",  # overlong forms
                 b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",  # past U+10FFFF
                 b"\xe6\xb5", b"\x80", b"\xff"]
        for bad in cases:
            r = self.emu.post("/api/v1/products", b'{"name":"a' + bad + b'b"}', headers=JSON)
            self.assertEqual((r.status, r.code), (400, "InvalidJson"), bad)
            r = self.emu.post("/api/v1/groups", b'{"name":"g' + bad + b'"}', headers=JSON)
            self.assertEqual((r.status, r.code), (400, "InvalidJson"), bad)
        self.assertEqual(self.names(), before)
        # the edges that are characters pass: U+D7FF, U+E000, U+10FFFF, an emoji
        for good in ("\ud7ff", "\ue000", "\U0010ffff", "\U0001f600 灯"):
            r = self.emu.post("/api/v1/products", b'{"name":"' + good.encode() + b'"}', headers=JSON)
            self.assertEqual((r.status, r.json["name"]), (201, good), repr(good))

    def test_error_bodies_are_utf8_json_whatever_the_path(self):
        paths = ["/api/v1/%FF%FE", "/api/v1/products/%ED%A0%80", "/api/v1/products/%E6%B5",
                 "/api/v1/products/%C0%AF/devices/x%FFy", "/api/v1/apps/%F4%90%80%80", "/%FF/%FE"]
        for path in paths:
            for method in ("GET", "POST", "DELETE"):
                r = self.emu.request(method, path, body=b"{}" if method == "POST" else None, headers=JSON)
                self.assertGreaterEqual(r.status, 400, (method, path))
                if r.headers.get("content-type") != "application/json":
                    continue  # the console's 404 page, the OSS XML of a download
                body = strict_json(r.body)
                self.assertIsInstance(body["code"], str)
                self.assertNotIn("\ufffd", body["message"])  # bad bytes shown as \\xHH, not lost
        r = self.emu.get("/api/v1/nothing%FF")
        self.assertIn("\\xFF", strict_json(r.body)["message"])

    def test_an_upload_name_of_any_bytes_gets_a_utf8_error(self):
        data = make_package({})
        for name in ("%FF%FE.tar.gz", "python9000-8800100099990000-0.0.%ED%A0%80.tar.gz",
                     quote("灯") + "%E6%B5-" + APP_ID + "-0.0.2.tar.gz"):
            r = self.emu.post("/api/v1/apps/%s/versions?filename=%s" % (APP_ID, name), body=data,
                              headers={"Content-Type": "application/gzip"})
            self.assertEqual(r.status, 400, name)
            body = strict_json(r.body)
            self.assertTrue(body["code"].startswith("Invalid"), body)
        self.assertEqual(self.emu.upload(APP_ID, package_name(), data).status, 201)


if __name__ == "__main__":
    import unittest
    unittest.main()
