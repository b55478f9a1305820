"""Deleted and disabled devices (issue 11, finding 3): a device that is
deleted (alone or with its product) or disabled is disconnected at once -
haas-emu asks the broker plugin on /as/mqtt/kick/{pk}/{dn} - instead of
keeping its session, replies and subscriptions until it reconnects; its
next login is refused (UnknownDevice, DeviceDisabled), and enabling it lets
it in again (the cloud's DisableThing / EnableThing)."""
import json
import time

from harness import EmulatorTest, wait_for
from mqtt_device import TIMEOUT, Device

KICK_WITHIN = 5.0  # seconds from the API's answer to the device's disconnection


class DeviceKickTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pk = cls.emu.product("kick")
        cls.secrets = {}

    def setUp(self):
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.close()

    def new_device(self, dn, pk=None):
        dev = self.emu.device(pk or self.pk, dn)
        self.assertIs(dev["enabled"], True)
        self.secrets[(pk or self.pk, dn)] = dev["deviceSecret"]
        return dn

    def connect(self, dn, pk=None):
        pk = pk or self.pk
        d = Device(self.emu.mqtt_port, pk, dn, self.secrets[(pk, dn)]).connect()
        self.devices.append(d)
        wait_for(lambda: self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["status"] == "online",
                 what="%s online" % dn)
        return d

    def login(self, dn, pk=None):
        """CONNACK return code of a fresh login of dn (0 = accepted)."""
        pk = pk or self.pk
        d = Device(self.emu.mqtt_port, pk, dn, self.secrets[(pk, dn)])
        d.c.connect("127.0.0.1", self.emu.mqtt_port, 30)
        d.c.loop_start()
        try:
            return d.connack.get(timeout=TIMEOUT)
        finally:
            d.c.disconnect()
            d.c.loop_stop()

    def assert_kicked(self, d, answered_at):
        self.assertTrue(d.disconnected.wait(KICK_WITHIN), "%s still connected %.0f s after the API answered"
                        % (d.dn, KICK_WITHIN))
        self.assertLess(time.monotonic() - answered_at, KICK_WITHIN)

    def messages(self, pk, dn, kind):
        items = self.emu.get("/api/v1/messages?limit=500&productKey=%s&deviceName=%s" % (pk, dn)).json["items"]
        return [m for m in items if m["kind"] == kind]

    def refusal_code(self, pk, dn):
        """The code of the last refusal notice the emulator logged for dn."""
        refused = self.messages(pk, dn, "refused")
        return json.loads(refused[-1]["payload"])["code"] if refused else None

    @staticmethod
    def still_served(d):
        """d still gets answers: its post is replied to."""
        mid = d.post("barrier", {})
        d.wait_for(lambda t, p: t.endswith("/barrier/post_reply") and json.loads(p)["id"] == mid, "a reply")
        return True

    def test_a_deleted_device_is_disconnected_and_refused(self):
        dn = self.new_device("gone-1")
        d = self.connect(dn)
        r = self.emu.delete("/api/v1/products/%s/devices/%s" % (self.pk, dn))
        self.assertEqual(r.status, 204)
        self.assert_kicked(d, time.monotonic())
        self.assertEqual(len(self.messages(self.pk, dn, "kick")), 1)
        self.assertEqual(self.login(dn), 5)
        wait_for(lambda: self.refusal_code(self.pk, dn) == "UnknownDevice", what="UnknownDevice notice")

    def test_deleting_a_product_disconnects_its_devices_only(self):
        other = self.emu.product("kick-other")
        names = [self.new_device("prod-%d" % i, other) for i in range(3)]
        ds = [self.connect(dn, other) for dn in names]
        keep = self.connect(self.new_device("stays-1"))
        self.assertEqual(self.emu.delete("/api/v1/products/" + other).status, 204)
        answered = time.monotonic()
        for d in ds:
            self.assert_kicked(d, answered)
        for dn in names:
            self.assertEqual(self.login(dn, other), 5)
        self.assertFalse(keep.disconnected.is_set())
        self.assertTrue(self.still_served(keep))

    def test_disable_disconnects_and_refuses_until_enabled(self):
        dn = self.new_device("off-1")
        d = self.connect(dn)
        path = "/api/v1/products/%s/devices/%s" % (self.pk, dn)
        r = self.emu.post(path + "/disable")
        self.assertEqual((r.status, r.json["enabled"], r.json["deviceName"]), (200, False, dn), r)
        self.assert_kicked(d, time.monotonic())
        self.assertEqual(self.login(dn), 5)
        wait_for(lambda: (self.emu.get(path).json["lastRefusal"] or {}).get("code") == "DeviceDisabled",
                 what="DeviceDisabled on the device")
        self.assertIs(self.emu.get(path).json["enabled"], False)
        self.assertEqual(self.emu.post(path + "/disable").status, 200)  # again: nothing changes
        r = self.emu.post(path + "/enable")
        self.assertEqual((r.status, r.json["enabled"]), (200, True), r)
        self.assertEqual(self.emu.post(path + "/enable").json["enabled"], True)
        d2 = self.connect(dn)  # let in again
        self.assertTrue(self.still_served(d2))

    def test_unknown_devices_cannot_be_disabled_or_enabled(self):
        for action in ("disable", "enable"):
            r = self.emu.post("/api/v1/products/%s/devices/nobody-9/%s" % (self.pk, action))
            self.assertEqual((r.status, r.code), (404, "DeviceNotFound"), action)
            r = self.emu.post("/api/v1/products/a1nothere00/devices/nobody-9/%s" % action)
            self.assertEqual((r.status, r.code), (404, "DeviceNotFound"), action)


if __name__ == "__main__":
    import unittest
    unittest.main()
