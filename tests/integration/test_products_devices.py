"""REST API: products and devices (schema/openapi.yaml, tutorial 2.2-2.3)."""
import re

from harness import EmulatorTest

ALNUM = re.compile(r"^[A-Za-z0-9]+$")


class ProductsTest(EmulatorTest):
    def test_create_generates_an_11_character_key(self):
        r = self.emu.post("/api/v1/products", {"name": "灯 light"})
        self.assertEqual(r.status, 201, r)
        pk = r.json["productKey"]
        self.assertEqual(len(pk), 11)
        self.assertRegex(pk, ALNUM)
        self.assertEqual(r.json["name"], "灯 light")
        self.assertEqual(r.json["deviceCount"], 0)
        self.assertEqual(self.emu.get("/api/v1/products/" + pk).json["productKey"], pk)

    def test_create_with_given_key_and_conflict(self):
        r = self.emu.post("/api/v1/products", {"name": "mine", "productKey": "a14Xib5kdYd"})
        self.assertEqual((r.status, r.json["productKey"]), (201, "a14Xib5kdYd"))
        r = self.emu.post("/api/v1/products", {"name": "again", "productKey": "a14Xib5kdYd"})
        self.assertEqual((r.status, r.code), (409, "ProductExists"))

    def test_bad_bodies_are_refused_and_store_nothing(self):
        before = self.emu.get("/api/v1/products?limit=500").json["total"]
        cases = [
            ({"name": ""}, "InvalidName"),
            ({"name": "x" * 65}, "InvalidName"),
            ({"name": "a\nb"}, "InvalidName"),
            ({"name": 5}, "InvalidName"),
            ({"name": "ok", "productKey": "short"}, "InvalidProductKey"),
            ({"name": "ok", "productKey": "a14Xib5kdY!"}, "InvalidProductKey"),
        ]
        for body, code in cases:
            r = self.emu.post("/api/v1/products", body)
            self.assertEqual((r.status, r.code), (400, code), body)
        for raw in (b"", b"{", b"[1]", b'{"name":"a"} x', b"\xff\xfe"):
            r = self.emu.post("/api/v1/products", raw, headers={"Content-Type": "application/json"})
            self.assertEqual((r.status, r.code), (400, "InvalidJson"), raw)
        self.assertEqual(self.emu.get("/api/v1/products?limit=500").json["total"], before)

    def test_oversized_body_is_413(self):
        r = self.emu.post("/api/v1/products", b'{"name":"' + b"x" * (1 << 21) + b'"}',
                          headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.code), (413, "BodyTooLarge"))

    def test_list_paging(self):
        for i in range(3):
            self.emu.product("page%d" % i)
        all_items = self.emu.get("/api/v1/products?limit=500").json
        self.assertGreaterEqual(all_items["total"], 3)
        page = self.emu.get("/api/v1/products?offset=1&limit=2").json
        self.assertEqual((page["offset"], page["limit"], len(page["items"])), (1, 2, 2))
        self.assertEqual(page["items"][0], all_items["items"][1])
        self.assertEqual(self.emu.get("/api/v1/products").json["limit"], 50)
        for q in ("limit=501", "limit=0", "limit=-1", "offset=-1", "limit=abc"):
            r = self.emu.get("/api/v1/products?" + q)
            self.assertEqual((r.status, r.code), (400, "InvalidParameter"), q)

    def test_get_and_delete_unknown(self):
        self.assertEqual(self.emu.get("/api/v1/products/a1nothere00").code, "ProductNotFound")
        r = self.emu.delete("/api/v1/products/a1nothere00")
        self.assertEqual((r.status, r.code), (404, "ProductNotFound"))

    def test_delete_removes_devices(self):
        pk = self.emu.product("doomed")
        self.emu.device(pk, "dev-1")
        self.assertEqual(self.emu.delete("/api/v1/products/" + pk).status, 204)
        self.assertEqual(self.emu.get("/api/v1/products/" + pk).status, 404)
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/dev-1" % pk).status, 404)


class DevicesTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pk = cls.emu.product("devices")

    def path(self, suffix=""):
        return "/api/v1/products/%s/devices%s" % (self.pk, suffix)

    def test_add_one_device(self):
        r = self.emu.post(self.path(), {"deviceName": "light1983432"})
        self.assertEqual(r.status, 201, r)
        d = r.json
        self.assertEqual((d["productKey"], d["deviceName"], d["status"]), (self.pk, "light1983432", "inactive"))
        self.assertEqual(len(d["deviceSecret"]), 32)
        self.assertRegex(d["deviceSecret"], ALNUM)
        self.assertIsNone(d["lastOnlineAt"])
        self.assertIsNone(d["ip"])
        self.assertEqual(d["apps"], [])
        got = self.emu.get(self.path("/light1983432")).json
        self.assertEqual(got.pop("modules"), [])  # firmware module versions: only in the single-device answer
        self.assertEqual(got, d)

    def test_secrets_differ(self):
        a = self.emu.device(self.pk, "secret-a")["deviceSecret"]
        b = self.emu.device(self.pk, "secret-b")["deviceSecret"]
        self.assertNotEqual(a, b)

    def test_fixed_secret_for_seeded_runs(self):
        r = self.emu.post(self.path(), {"deviceName": "fixed1", "deviceSecret": "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"})
        self.assertEqual((r.status, r.json["deviceSecret"]), (201, "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"))
        r = self.emu.post(self.path(), {"deviceName": "fixed2", "deviceSecret": "short"})
        self.assertEqual((r.status, r.code), (400, "InvalidDeviceSecret"))

    def test_device_name_rules(self):
        for name in ("abc", "x" * 33, "has space", "slash/", "ü-name", "", None, 12):
            r = self.emu.post(self.path(), {"deviceName": name})
            self.assertEqual((r.status, r.code), (400, "InvalidDeviceName"), name)
        for name in ("a_b@c.d:e-f", "x" * 32, "abcd"):
            self.assertEqual(self.emu.post(self.path(), {"deviceName": name}).status, 201, name)

    def test_duplicate_is_409(self):
        self.emu.device(self.pk, "twice")
        r = self.emu.post(self.path(), {"deviceName": "twice"})
        self.assertEqual((r.status, r.code), (409, "DeviceExists"))

    def test_unknown_product(self):
        r = self.emu.post("/api/v1/products/a1nothere00/devices", {"deviceName": "dev1"})
        self.assertEqual((r.status, r.code), (404, "ProductNotFound"))
        self.assertEqual(self.emu.get("/api/v1/products/a1nothere00/devices").code, "ProductNotFound")

    def test_batch_with_prefix_counts_on(self):
        r = self.emu.post(self.path(), {"count": 3, "prefix": "core2-"})
        self.assertEqual(r.status, 201, r)
        names = [d["deviceName"] for d in r.json["items"]]
        self.assertEqual(names, ["core2-0001", "core2-0002", "core2-0003"])
        self.assertEqual(len({d["deviceSecret"] for d in r.json["items"]}), 3)
        r = self.emu.post(self.path(), {"count": 2, "prefix": "core2-"})
        self.assertEqual([d["deviceName"] for d in r.json["items"]], ["core2-0004", "core2-0005"])

    def test_batch_without_prefix_makes_random_names(self):
        r = self.emu.post(self.path(), {"count": 5})
        self.assertEqual(r.status, 201)
        names = [d["deviceName"] for d in r.json["items"]]
        self.assertEqual(len(set(names)), 5)
        for n in names:
            self.assertRegex(n, r"^[A-Za-z0-9]{20}$")

    def test_batch_rules(self):
        total = self.emu.get(self.path()).json["total"]
        for body in ({"count": 0}, {"count": 10001}, {"count": 1.5}, {"count": "3"}):
            r = self.emu.post(self.path(), body)
            self.assertEqual((r.status, r.code), (400, "InvalidCount"), body)
        for prefix in ("bad prefix", "x" * 27, "ü"):
            r = self.emu.post(self.path(), {"count": 1, "prefix": prefix})
            self.assertEqual((r.status, r.code), (400, "InvalidPrefix"), prefix)
        self.assertEqual(self.emu.get(self.path()).json["total"], total)

    def test_list_and_filter(self):
        self.emu.device(self.pk, "listed")
        r = self.emu.get(self.path("?limit=500"))
        self.assertIn("listed", [d["deviceName"] for d in r.json["items"]])
        self.assertEqual(r.json["total"], len(r.json["items"]))
        r = self.emu.get(self.path("?status=online"))
        self.assertEqual(r.json["items"], [])
        self.assertEqual(self.emu.get(self.path("?status=weird")).code, "InvalidParameter")

    def test_delete(self):
        self.emu.device(self.pk, "gone")
        self.assertEqual(self.emu.delete(self.path("/gone")).status, 204)
        r = self.emu.get(self.path("/gone"))
        self.assertEqual((r.status, r.code), (404, "DeviceNotFound"))
        self.assertEqual(self.emu.delete(self.path("/gone")).code, "DeviceNotFound")
