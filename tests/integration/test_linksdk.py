"""Real HaaS firmware against the emulator: a device that behaves on the
wire as Link SDK C 4.x does (linksdk_device.py: upper-case password,
`_ss=1`, no SUBSCRIBE, clean session, QoS 0 posts with string ids) runs the
tutorial's upgrade loop, again after a broker restart and after its own
reconnect; the platform's automatic subscription, its reply rules
(`"sys":{"ack":0}`), and what it must never deliver (docs/protocol.md sections 3, 4 and 6).
"""
import hashlib
import json
import os
import signal
import ssl
import urllib.request

import paho.mqtt.client as mqtt

from harness import APP_ID, Emulator, EmulatorTest, make_package, package_name, wait_for
from linksdk_device import TIMEOUT, LinkSdkDevice, compact
from mqtt_device import Device, nodejs_credentials


def download(url, cafile=None):
    """GET as a device does; returns the body (raises on any non-200)."""
    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    with urllib.request.urlopen(url, timeout=TIMEOUT, context=ctx) as r:
        return r.read()


class LinkSdkTest(EmulatorTest):
    cafile = None  # set by the TLS variant

    @classmethod
    def start_emulator(cls):
        return Emulator(cls.__module__ + "." + cls.__name__).start()

    @classmethod
    def setUpClass(cls):
        cls.emu = emu = cls.start_emulator()
        cls.pk = emu.product("HaaS Core2")
        emu.app()
        for ver in ("0.0.2", "0.0.3", "0.0.4"):
            r = emu.upload(APP_ID, package_name(ver), make_package({"main.py": "print('%s')\n" % ver}, version=ver))
            assert r.status == 201, r

    def setUp(self):
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.close()

    # -- helpers --
    def mqtt_port(self):
        return self.emu.mqtt_port

    def linksdk(self, dn, connect=True):
        ds = self.emu.device(self.pk, dn)["deviceSecret"]
        d = LinkSdkDevice(self.mqtt_port(), self.pk, dn, ds, cafile=self.cafile)
        self.devices.append(d)
        if connect:
            d.connect()
            self.wait_status(dn, "online")
        return d

    def device_json(self, dn):
        return self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json

    def wait_status(self, dn, status):
        wait_for(lambda: self.device_json(dn)["status"] == status, what="%s %s" % (dn, status))

    def task_for(self, version, *names):
        gid = self.emu.post("/api/v1/groups", {"name": "core2"}).json["groupId"]
        r = self.emu.post("/api/v1/groups/%s/devices" % gid,
                          {"devices": [{"productKey": self.pk, "deviceName": n} for n in names]})
        self.assertEqual(r.status, 200, r)
        r = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": gid})
        self.assertEqual(r.status, 201, r)
        return r.json["taskId"]

    def push(self, tid):
        r = self.emu.post("/api/v1/tasks/%s/push" % tid)
        self.assertEqual(r.status, 200, r)
        return r.json

    def state(self, tid, dn):
        return {d["deviceName"]: d["state"] for d in self.emu.get("/api/v1/tasks/" + tid).json["devices"]}[dn]

    def upgrade(self, d, old, new):
        """One turn of the tutorial's loop as HaaS firmware runs it: query,
        push, download, check, result; the task ends succeeded."""
        qid = d.query({APP_ID: old})
        reply = d.wait_reply("hli_event_upgrade_query", qid)
        self.assertEqual((reply["code"], reply["method"], reply["message"], reply["data"]),
                         (200, "thing.event.hli_event_upgrade_query.post", "success", {}))
        tid = self.task_for(new, d.dn)
        self.assertEqual(self.push(tid)["pushed"], 1)
        push = d.wait_push()
        app = push["params"]["app"][0]
        self.assertEqual((app["appId"], app["version"], push["params"]["errorCode"]), (APP_ID, new, "200"))
        body = download(app["url"], self.cafile)
        self.assertEqual((len(body), hashlib.md5(body).hexdigest()), (app["size"], app["md5"]))
        rid = d.result(200, APP_ID, new, old)
        reply = d.wait_reply("hli_event", rid)
        self.assertEqual((reply["id"], reply["code"]), (rid, 200))
        wait_for(lambda: self.state(tid, d.dn) == "succeeded", what="task succeeded for %s" % d.dn)
        return app

    # -- tests --
    def test_tutorial_with_no_subscribe(self):
        d = self.linksdk("core2-tutorial")
        self.upgrade(d, "0.0.1", "0.0.2")
        self.assertIn({"appId": APP_ID, "version": "0.0.2"}, self.device_json(d.dn)["apps"])
        # the push is byte for byte what a subscribed device receives (QoS 1)
        self.assertTrue(any(t.endswith("hli_service_upgrade_push") for t, _ in d.seen))

    def test_numeric_and_string_ids_are_echoed(self):
        d = self.linksdk("core2-ids")
        qid = d.query({APP_ID: "0.0.1"}, alink_id=4294967295)  # a bare number, as the OTA module sends
        reply = d.wait_reply("hli_event_upgrade_query", qid)
        self.assertEqual(reply["id"], 4294967295)
        sid = d.post("property", {"LightSwitch": 1}, alink_id="17")
        self.assertEqual(d.wait_reply("property", sid)["id"], "17")

    def test_ack_zero_gets_no_reply(self):
        d = self.linksdk("core2-ack0")
        silent = d.post("hli_event", {"eventType": "other"}, ack=0)
        loud = d.post("hli_event", {"eventType": "other"}, ack=1)
        d.wait_reply("hli_event", loud)
        replied = [json.loads(p)["id"] for t, p in d.seen if t.endswith("/post_reply")]
        self.assertNotIn(silent, replied)
        self.assertEqual(replied, [loud])
        # no "sys" at all, or another ack value, still gets its reply
        plain = "99"
        d.c.publish(d.topic("thing/event/property/post"), compact({"id": plain, "params": {}}), 0)
        d.wait_reply("property", plain)

    def test_after_broker_restart(self):
        d = self.linksdk("core2-restart")
        self.upgrade(d, "0.0.1", "0.0.2")
        before = self.emu.get("/healthz").json
        os.kill(before["brokerPid"], signal.SIGKILL)
        self.assertTrue(d.lost.wait(TIMEOUT), "the device noticed nothing")
        wait_for(lambda: (lambda h: h["broker"] == "connected" and h["brokerPid"] != before["brokerPid"])(
            self.emu.get("/healthz").json), timeout=20, what="broker restarted and link back")
        d.reconnect()
        self.wait_status(d.dn, "online")
        self.upgrade(d, "0.0.2", "0.0.3")

    def test_after_own_reconnect(self):
        d = self.linksdk("core2-reconnect")
        d.c.disconnect()
        d.c.loop_stop()
        self.wait_status(d.dn, "offline")
        d.reconnect()
        self.wait_status(d.dn, "online")
        self.upgrade(d, "0.0.1", "0.0.2")

    def test_unsubscribe_stops_automatic_delivery(self):
        d = self.linksdk("core2-unsub")
        result, _ = d.c.unsubscribe(d.topic("thing/service/hli_service_upgrade_push"))
        self.assertEqual(result, mqtt.MQTT_ERR_SUCCESS)
        d.barrier()
        tid = self.task_for("0.0.2", d.dn)
        self.assertEqual(self.push(tid)["pushed"], 1)
        d.barrier()  # anything sent before the barrier's reply has arrived
        self.assertFalse([t for t, _ in d.seen if t.endswith("hli_service_upgrade_push")])
        # the other automatic topics still arrive (the barrier's reply did)
        d.c.disconnect()
        d.c.loop_stop()
        self.wait_status(d.dn, "offline")
        # a new connection starts again with the whole list
        d.reconnect()
        self.wait_status(d.dn, "online")
        self.push(tid)
        self.assertEqual(d.wait_push()["params"]["app"][0]["version"], "0.0.2")

    def test_version_report_settles_a_lost_result(self):
        """The app.result never arrives (it died with a broker), but after its
        reboot the device reports the pushed version: the task counts it."""
        d = self.linksdk("core2-lost-result")
        tid = self.task_for("0.0.2", d.dn)
        self.push(tid)
        d.wait_push()
        self.assertEqual(self.state(tid, d.dn), "pushed")
        d.wait_reply("hli_event_upgrade_query", d.query({APP_ID: "0.0.2"}))
        wait_for(lambda: self.state(tid, d.dn) == "succeeded", what="reconciled")
        wait_for(lambda: "counts it succeeded (its app.result never arrived)" in self.emu.read_log(),
                 what="the reconciliation logged")

    def test_no_qos_2(self):
        """The platform has no QoS 2: a subscription asking for it gets 1,
        and a QoS 2 publish ends the connection."""
        d = self.linksdk("core2-qos2")
        granted = []
        d.c.on_subscribe = lambda c, u, mid, g: granted.extend(g)
        d.c.subscribe(d.topic("thing/service/+"), 2)
        wait_for(lambda: granted, what="SUBACK")
        self.assertEqual(granted, [1])
        d.c.publish(d.topic("thing/event/property/post"), '{"id":"1","params":{}}', 2)
        self.assertTrue(d.lost.wait(TIMEOUT))

    def test_own_subscription_is_not_doubled(self):
        d = self.linksdk("core2-both")
        d.c.subscribe(d.topic("thing/service/+"), 1)
        d.barrier()
        self.push(self.task_for("0.0.2", d.dn))
        d.wait_push()
        d.barrier()
        pushes = [t for t, _ in d.seen if t.endswith("hli_service_upgrade_push")]
        self.assertEqual(len(pushes), 1, d.seen)

    def test_device_without_ss_keeps_plain_mqtt(self):
        """The Node.js SDK and MQTT.fx (no `_ss=1`) get only what they subscribe to."""
        ds = self.emu.device(self.pk, "node-plain")["deviceSecret"]
        d = Device(self.mqtt_port(), self.pk, "node-plain", ds, creds=nodejs_credentials, cafile=self.cafile)
        d.connect(subscribe=("thing/event/+/post_reply",))
        self.devices.append(d)
        self.push(self.task_for("0.0.2", "node-plain"))
        d.post("barrier2", {})
        d.wait_for(lambda t, p: t.endswith("/barrier2/post_reply"), "barrier")
        self.assertFalse([t for t, _ in d.seen if t.endswith("hli_service_upgrade_push")])

    def test_nodejs_sdk_tutorial(self):
        """A device as Alibaba's Node.js SDK is on the wire (clientId `pk&dn|...
        lan=NODEJS|`, hmacsha1, lower-case hex, no `_ss`, explicit
        subscriptions) runs the same loop: query, push, download, result."""
        ds = self.emu.device(self.pk, "node-tutorial")["deviceSecret"]
        d = Device(self.mqtt_port(), self.pk, "node-tutorial", ds, creds=nodejs_credentials, cafile=self.cafile)
        d.connect()
        self.devices.append(d)
        self.wait_status("node-tutorial", "online")
        d.query({APP_ID: "0.0.1"})
        tid = self.task_for("0.0.2", "node-tutorial")
        self.assertEqual(self.push(tid)["pushed"], 1)
        app = d.wait_push()["params"]["app"][0]
        body = download(app["url"], self.cafile)
        self.assertEqual(hashlib.md5(body).hexdigest(), app["md5"])
        d.result(200, APP_ID, "0.0.2", "0.0.1")
        wait_for(lambda: self.state(tid, "node-tutorial") == "succeeded", what="node device succeeded")
        d.post("barrier", {})  # its reply comes after anything sent before it
        d.wait_for(lambda t, p: t.endswith("/barrier/post_reply"), "barrier")
        self.assertEqual(len(d.pushes_seen()), 1)  # its subscription only: no automatic copy

    def test_nothing_of_another_device_leaks(self):
        """Automatic subscription never crosses devices: B (also `_ss=1`, same
        product; and a device of another product with the same name) gets
        none of A's downstream messages, whatever B subscribes or publishes."""
        a = self.linksdk("core2-a")
        b = self.linksdk("core2-b")
        pk2 = self.emu.product("other")
        ds2 = self.emu.device(pk2, "core2-a")["deviceSecret"]
        twin = LinkSdkDevice(self.mqtt_port(), pk2, "core2-a", ds2, cafile=self.cafile).connect()
        self.devices.append(twin)
        for f in ("#", "/sys/+/+/#", "/sys/%s/+/thing/service/+" % self.pk, "/ota/device/upgrade/+/+"):
            b.c.subscribe(f, 1)
        # B may not publish on A's downlinks either (ACL): nothing reaches A from B
        b.c.publish("/sys/%s/core2-a/thing/service/hli_service_upgrade_push" % self.pk, "{}", 1)
        self.push(self.task_for("0.0.2", "core2-a"))
        a.wait_push()
        qa = a.query({APP_ID: "0.0.1"})
        a.wait_reply("hli_event_upgrade_query", qa)
        b.barrier()
        twin.barrier()
        self.assertEqual([t for t, _ in b.seen if "core2-a" in t], [], b.seen)
        self.assertEqual([t for t, _ in twin.seen if self.pk in t], [], twin.seen)
        pushes_a = [p for t, p in a.seen if t.endswith("hli_service_upgrade_push")]
        self.assertEqual(len(pushes_a), 1)  # and not B's forged one

    def test_refused_login_says_why(self):
        """A wrong secret is refused (CONNACK 5) and the reason is logged
        without --verbose and shown on the device."""
        self.emu.device(self.pk, "core2-badkey")
        d = LinkSdkDevice(self.mqtt_port(), self.pk, "core2-badkey", "x" * 32, cafile=self.cafile)
        with self.assertRaises(AssertionError):
            d.connect()
        d.c.loop_stop()
        dev = wait_for(lambda: (lambda j: j if j["lastRefusal"] else None)(self.device_json("core2-badkey")),
                       what="refusal recorded")
        self.assertEqual(dev["lastRefusal"]["code"], "WrongPassword")
        self.assertEqual(dev["lastRefusal"]["clientId"], d.client_id)
        self.assertEqual(dev["status"], "inactive")
        wait_for(lambda: "refused MQTT login of core2-badkey&%s" % self.pk in self.emu.read_log(),
                 what="refusal in the log")
        # an unknown device is named in the log too
        ghost = LinkSdkDevice(self.mqtt_port(), self.pk, "core2-ghost", "y" * 32, cafile=self.cafile)
        with self.assertRaises(AssertionError):
            ghost.connect()
        ghost.c.loop_stop()
        wait_for(lambda: "core2-ghost&%s" % self.pk in self.emu.read_log() and "UnknownDevice" in
                 self.emu.read_log(), what="unknown device in the log")
