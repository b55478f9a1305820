"""The emulator's MQTT side against a real mosquitto (the managed one):
device lifecycle, the upgrade push, result and query events, device info,
malformed input, re-push, and recovery after the broker dies (docs/protocol.md
sections 5-7, docs/architecture.md section 4)."""
import hashlib
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from harness import (APP_ID, Emulator, EmulatorTest, LinkTakenOver, broker_service_account, make_package, package_name,
                     wait_for)
from mqtt_device import TIMEOUT, Device, credentials

PUSH_APP_KEYS = ["size", "appId", "rollingBack", "version", "url", "md5", "needRestart"]
PUSH_PARAM_KEYS = ["app", "appUpdateCount", "errorCode", "needUpdateFirmware", "haasTraceId"]


class MqttFlowTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        emu = cls.emu
        cls.pk = emu.product("mqtt")
        cls.secrets = {}
        emu.app()
        cls.packages = {}
        for ver in ("0.0.2", "0.0.3"):
            data = make_package({"main.py": "print('%s')\n" % ver}, version=ver)
            assert emu.upload(APP_ID, package_name(ver), data).status == 201
            cls.packages[ver] = data

    def setUp(self):
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.close()

    # -- helpers --
    def new_device(self, dn):
        self.secrets[dn] = self.emu.device(self.pk, dn)["deviceSecret"]
        return dn

    def connect(self, dn, **kw):
        d = Device(self.emu.mqtt_port, self.pk, dn, self.secrets[dn], **kw).connect()
        self.devices.append(d)
        self.wait_device(dn, lambda x: x["status"] == "online", "online")
        return d

    def device(self, dn):
        return self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json

    def wait_device(self, dn, pred, what):
        return wait_for(lambda: pred(self.device(dn)), what="%s %s" % (dn, what))

    def group_of(self, *names):
        gid = self.emu.post("/api/v1/groups", {"name": "g"}).json["groupId"]
        r = self.emu.post("/api/v1/groups/%s/devices" % gid,
                          {"devices": [{"productKey": self.pk, "deviceName": n} for n in names]})
        self.assertEqual(r.status, 200, r)
        return gid

    def task(self, gid, version="0.0.2"):
        r = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": gid})
        self.assertEqual(r.status, 201, r)
        return r.json["taskId"]

    def push(self, tid):
        r = self.emu.post("/api/v1/tasks/%s/push" % tid)
        self.assertEqual(r.status, 200, r)
        return r.json

    def states(self, tid):
        t = self.emu.get("/api/v1/tasks/" + tid).json
        return {d["deviceName"]: (d["state"], d["code"]) for d in t["devices"]}

    def wait_state(self, tid, dn, state, code=None):
        wait_for(lambda: self.states(tid)[dn] == (state, code), what="%s %s in %s" % (dn, state, tid))

    @staticmethod
    def barrier(d):
        """Returns once everything sent to d before now has arrived: the
        emulator answers a post after handling what came before it."""
        mid = d.post("barrier", {})
        d.wait_for(lambda t, p: t.endswith("/barrier/post_reply") and json.loads(p)["id"] == mid, "barrier")

    def assert_no_push(self, d, since=0):
        """Nothing more than `since` pushes reached d so far."""
        self.barrier(d)
        self.assertEqual(len(d.pushes_seen()), since)

    # -- lifecycle --
    def test_health_reports_the_broker(self):
        h = self.emu.get("/healthz").json
        self.assertEqual((h["broker"], h["brokerMode"], h["status"]), ("connected", "managed", "ok"))
        self.assertGreater(h["brokerPid"], 0)

    def test_online_offline_with_ip_and_time(self):
        dn = self.new_device("life-1")
        self.assertEqual(self.device(dn)["status"], "inactive")
        t0 = time.time()
        d = self.connect(dn)
        dev = self.device(dn)
        self.assertEqual(dev["ip"], "127.0.0.1")
        self.assertIsNotNone(dev["lastOnlineAt"])
        seen = time.mktime(time.strptime(dev["lastOnlineAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertLess(abs(seen - t0), 5)
        d.close()
        self.devices.remove(d)
        self.wait_device(dn, lambda x: x["status"] == "offline", "offline")
        self.assertEqual(self.device(dn)["lastOnlineAt"], dev["lastOnlineAt"])

    def online_now(self):
        """The product's online devices: their count (kept by a trigger) and
        their names (the status index), read in one snapshot."""
        page = self.emu.get("/api/v1/products/%s/devices?status=online&limit=100" % self.pk).json
        return page["total"], {d["deviceName"] for d in page["items"]}

    def test_reboot_in_one_batch_ends_online_and_a_logout_offline(self):
        """The link holds a device's offline report back until its batch
        (one transaction) ends, and a login of the same device in that batch
        cancels it (device_events.c). One gathered lifecycle message, as
        the plugin sends it, puts a reboot (offline, then online) and a
        logout in one batch: the rebooted device ends online, the other
        offline, and the online count agrees with the online rows."""
        rebooting, leaving, staying = (self.new_device(n) for n in ("life-reboot", "life-leave", "life-stay"))
        for dn in (rebooting, leaving, staying):
            self.connect(dn)

        def status(dn, state, t):
            return {"status": state, "productKey": self.pk, "deviceName": dn, "time": t,
                    "clientIp": "127.0.0.1", "lastTime": t}
        now = int(time.time() * 1000)
        gathered = [status(rebooting, "offline", now), status(rebooting, "online", now + 1),
                    status(leaving, "offline", now + 2)]
        service = mqtt.Client(client_id="test-service-%d" % os.getpid(), protocol=mqtt.MQTTv311)
        service.username_pw_set(*broker_service_account(self.emu))
        service.connect("127.0.0.1", self.emu.mqtt_port)
        service.loop_start()
        try:
            service.publish("/as/mqtt/statuses", json.dumps(gathered), qos=1).wait_for_publish(timeout=10)
        finally:
            service.loop_stop()
            service.disconnect()
        self.wait_device(leaving, lambda x: x["status"] == "offline", "offline")  # the batch is committed
        self.assertEqual(self.device(rebooting)["status"], "online")
        self.assertEqual(self.device(staying)["status"], "online")
        total, names = self.online_now()
        self.assertEqual(total, len(names))
        self.assertTrue({rebooting, staying} <= names, names)
        self.assertNotIn(leaving, names)

    def device_process(self, dn, keepalive=2):
        """A separate process holding dn's connection (keepalive seconds),
        returned once the emulator shows the device online."""
        cid, user, pw = credentials(self.pk, dn, self.secrets[dn])
        code = ("import sys, paho.mqtt.client as m\n"
                "c = m.Client(client_id=sys.argv[2], protocol=m.MQTTv311)\n"
                "c.username_pw_set(sys.argv[3], sys.argv[4])\n"
                "c.connect('127.0.0.1', int(sys.argv[1]), int(sys.argv[5]))\n"
                "c.loop_forever()\n")
        child = subprocess.Popen(["/usr/bin/python3", "-c", code, str(self.emu.mqtt_port), cid, user, pw,
                                  str(keepalive)])
        self.addCleanup(lambda: (child.kill(), child.wait()))
        self.wait_device(dn, lambda x: x["status"] == "online", "online")
        return child

    def test_killed_device_goes_offline(self):
        child = self.device_process(self.new_device("life-kill"))
        child.send_signal(signal.SIGKILL)
        child.wait()
        t_kill = time.monotonic()
        self.wait_device("life-kill", lambda x: x["status"] == "offline", "offline")
        self.assertLess(time.monotonic() - t_kill, 1.0)  # "within a second"

    def test_frozen_device_goes_offline_by_keepalive(self):
        child = self.device_process(self.new_device("life-frozen"))
        child.send_signal(signal.SIGSTOP)  # the socket stays open; only the keepalive can tell
        t_stop = time.monotonic()
        self.wait_device("life-frozen", lambda x: x["status"] == "offline", "offline")
        self.assertGreaterEqual(time.monotonic() - t_stop, 2.0)

    # -- push --
    def test_push_reaches_online_devices_with_the_exact_shape(self):
        a, b, c = (self.new_device(n) for n in ("push-a", "push-b", "push-c"))
        da, db_ = self.connect(a), self.connect(b)
        db_.query({APP_ID: "0.0.2"})  # b already runs 0.0.2
        self.wait_device(b, lambda x: x["apps"] == [{"appId": APP_ID, "version": "0.0.2"}], "apps reported")
        tid = self.task(self.group_of(a, b, c))
        self.assertEqual(self.push(tid), {"pushed": 1, "offline": 1, "upToDate": 1, "notSent": 0})
        self.assertEqual(self.states(tid), {a: ("pushed", None), b: ("upToDate", None), c: ("offline", None)})

        raw = da.wait_for(lambda t, p: t.endswith("/hli_service_upgrade_push"), "push")
        self.assertEqual(raw[0], "/sys/%s/%s/thing/service/hli_service_upgrade_push" % (self.pk, a))
        body = raw[1].decode()
        msg = json.loads(body)
        self.assertEqual(list(msg), ["id", "version", "method", "params"])
        self.assertRegex(msg["id"], r"^\d{1,10}$")
        self.assertLessEqual(int(msg["id"]), 4294967295)
        self.assertEqual((msg["version"], msg["method"]), ("1.0", "thing.service.hli_service_upgrade_push"))
        p = msg["params"]
        self.assertEqual(list(p), PUSH_PARAM_KEYS)
        self.assertIn('"errorCode":"200"', body)  # a STRING, or the stock code crashes
        self.assertEqual((p["appUpdateCount"], p["needUpdateFirmware"]), (1, 0))
        self.assertRegex(p["haasTraceId"], r"^[0-9a-f]{8}\d{13}\d{4}1\d{4}$")
        trace = p["haasTraceId"]
        self.assertEqual(trace[:8], "7f000001")  # the host of --public-url (http://127.0.0.1:port)
        self.assertLess(abs(int(trace[8:21]) - time.time() * 1000), 60000)  # the push's millisecond time
        self.assertEqual(int(trace[26:]), self.emu.proc.pid % 10000)
        app = p["app"][0]
        self.assertEqual(list(app), PUSH_APP_KEYS)
        data = self.packages["0.0.2"]
        self.assertEqual((app["appId"], app["version"], app["rollingBack"], app["needRestart"], app["size"]),
                         (APP_ID, "0.0.2", 0, 0, len(data)))
        self.assertIs(type(app["rollingBack"]), int)
        self.assertEqual(app["md5"], hashlib.md5(data).hexdigest())
        url = urlparse(app["url"])
        self.assertEqual((url.scheme, url.port), ("http", self.emu.port))  # explicit port
        self.assertEqual(self.emu.get(url.path + "?" + url.query).body, data)
        self.assert_no_push(db_)

    def test_results_change_task_state(self):
        names = [self.new_device(n) for n in ("res-ok", "res-404", "res-405")]
        devs = {n: self.connect(n) for n in names}
        tid = self.task(self.group_of(*names))
        self.assertEqual(self.push(tid)["pushed"], 3)
        for n, d in devs.items():
            d.wait_push()
        mid = devs["res-ok"].result(200, APP_ID, "0.0.2", "0.0.1")
        _, reply = devs["res-ok"].wait_for(lambda t, p: t.endswith("/hli_event/post_reply"), "post_reply")
        self.assertEqual(json.loads(reply), {"id": mid, "code": 200, "data": {}, "message": "success",
                                             "method": "thing.event.hli_event.post", "version": "1.0"})
        devs["res-404"].result(404, APP_ID, "0.0.2", "0.0.1")
        devs["res-405"].result(405, APP_ID, "0.0.2", "0.0.1")
        self.wait_state(tid, "res-ok", "succeeded", 200)
        self.wait_state(tid, "res-404", "failed", 404)
        self.wait_state(tid, "res-405", "failed", 405)
        self.assertEqual(self.device("res-ok")["apps"], [{"appId": APP_ID, "version": "0.0.2"}])
        self.assertEqual(self.device("res-404")["apps"], [])
        counts = self.emu.get("/api/v1/tasks/" + tid).json["counts"]
        self.assertEqual((counts["succeeded"], counts["failed"], counts["pushed"]), (1, 2, 0))

        # re-push: the failed ones get a new push, the succeeded one is up to date
        first = {n: d.pushes_seen()[-1]["params"]["haasTraceId"] for n, d in devs.items()}
        self.assertEqual(self.push(tid), {"pushed": 2, "offline": 0, "upToDate": 1, "notSent": 0})
        for n in ("res-404", "res-405"):
            again = devs[n].wait_push()
            self.assertNotEqual(again["params"]["haasTraceId"], first[n])
        self.assertEqual(self.states(tid)["res-404"], ("pushed", None))
        self.assertEqual(self.states(tid)["res-ok"], ("succeeded", 200))  # a success stays a success
        self.assertEqual(self.emu.get("/api/v1/tasks/" + tid).json["pushCount"], 2)
        self.assert_no_push(devs["res-ok"], since=1)

    def test_query_from_a_late_device_gets_the_push(self):
        dn = self.new_device("late-1")
        tid = self.task(self.group_of(dn), "0.0.3")
        self.assertEqual(self.push(tid)["offline"], 1)
        d = self.connect(dn)
        self.assert_no_push(d)
        d.query({APP_ID: "0.0.1"})
        msg = d.wait_push()
        self.assertEqual(msg["params"]["app"][0]["version"], "0.0.3")
        self.wait_state(tid, dn, "pushed")
        self.assertEqual(self.device(dn)["firmwareVersion"], "0.0.1")
        # a device already at that version is not pushed again
        d.result(200, APP_ID, "0.0.3", "0.0.1")
        self.wait_state(tid, dn, "succeeded", 200)
        d.query({APP_ID: "0.0.3"})
        self.assert_no_push(d, since=1)

    def test_device_info_is_stored_as_received(self):
        dn = self.new_device("info-1")
        d = self.connect(dn)
        payload = b'{"id":"1","params":{"a":1}}{"b":2}'  # not valid JSON, as HaaS firmware sends
        d.publish(d.topic("thing/deviceinfo/update"), payload)
        self.wait_device(dn, lambda x: x["deviceInfo"] == payload.decode(), "device info")
        self.assertFalse(d.disconnected.is_set())

    def test_numeric_and_string_ids_are_echoed(self):
        dn = self.new_device("ids-1")
        d = self.connect(dn)
        for mid in (7, "1657023114"):
            d.post("property", {"x": 1}, msg_id=mid)
            _, reply = d.wait_for(lambda t, p, m=mid: t.endswith("/property/post_reply") and json.loads(p)["id"] == m,
                                  "reply to %r" % mid)
            self.assertEqual(json.loads(reply)["id"], mid)

    def test_malformed_payloads_change_nothing(self):
        dn = self.new_device("bad-1")
        d = self.connect(dn)
        tid = self.task(self.group_of(dn))
        self.push(tid)
        d.wait_push()
        garbage = [b"", b"\x00\xff\xfe", b"{", b"[]", b'{"id":1}', b'{"id":1,"params":[]}', b"x" * 300000,
                   json.dumps({"id": 1, "params": {"eventType": "haas.upgrade", "eventName": "app.result"}}).encode(),
                   json.dumps({"id": 2, "params": {"eventType": "haas.upgrade", "eventName": "app.result",
                                                   "argInt": "200", "ext": "{not json"}}).encode(),
                   json.dumps({"id": 3, "params": {"eventType": "haas.upgrade", "eventName": "app.result",
                                                   "argInt": 200, "ext": json.dumps({"appId": APP_ID,
                                                                                     "appNewVersion": "x.y"})}}).encode(),
                   json.dumps({"id": 4, "params": {"app": [{"appId": "123", "version": "0.0.9"},
                                                           {"appId": APP_ID}, 5, None]}}).encode()]
        for g in garbage:
            d.publish(d.topic("thing/event/hli_event/post"), g)
            d.publish(d.topic("thing/event/hli_event_upgrade_query/post"), g)
        self.barrier(d)
        self.assertFalse(d.disconnected.is_set())
        self.assertEqual(self.states(tid)[dn], ("pushed", None))
        self.assertEqual(self.device(dn)["apps"], [])
        self.assertEqual(self.emu.get("/healthz").status, 200)

    def test_device_cannot_reach_another_device(self):
        a, b = self.new_device("acl-a"), self.new_device("acl-b")
        da, dbb = self.connect(a), self.connect(b)
        # a forges b's result: the broker drops it, b's state is untouched
        tid = self.task(self.group_of(a, b))
        self.push(tid)
        dbb.wait_push()
        da.publish("/sys/%s/%s/thing/event/hli_event/post" % (self.pk, b),
                   json.dumps({"id": 1, "params": {"eventType": "haas.upgrade", "eventName": "app.result",
                                                   "argInt": 200, "ext": json.dumps(
                                                       {"appId": APP_ID, "appNewVersion": "0.0.2",
                                                        "appOldVersion": "0.0.1"})}}))
        self.barrier(da)
        self.assertEqual(self.states(tid)[b], ("pushed", None))


class LinkAwayTest(EmulatorTest):
    def test_lifecycle_missed_while_the_link_is_away_arrives_when_it_returns(self):
        """haas-emu listens to the lifecycle gathered by the plugin, at QoS
        0 (mqtt_link.c): what it misses while its link is away is not
        queued for it. Here another client takes its session over (as a cut
        link would leave it) and a device logs out meanwhile; its "offline"
        goes to that client, gathered, and only so: the session holds no
        subscription to the per-device topics (the link unsubscribed from
        them at connect), whose message the broker would have sent first.
        When haas-emu's link comes back, it subscribes to those for a moment
        and the broker sends every retained lifecycle message again: the
        device ends offline."""
        emu = self.emu
        pk = emu.product("away")
        ds = emu.device(pk, "away-1")["deviceSecret"]
        d = Device(emu.mqtt_port, pk, "away-1", ds).connect()
        device = "/api/v1/products/%s/devices/away-1" % pk
        wait_for(lambda: emu.get(device).json["status"] == "online", what="online")
        taken = LinkTakenOver(emu)
        with taken as messages:
            d.close()  # haas-emu's link waits a second before it logs in again
            topic, payload = messages.get(timeout=TIMEOUT)
            self.assertEqual(topic, "/as/mqtt/statuses")
            self.assertEqual([(s["deviceName"], s["status"]) for s in json.loads(payload)], [("away-1", "offline")])
            self.assertEqual(emu.get(device).json["status"], "online")  # haas-emu missed it
            taken.wait_link_back()
            wait_for(lambda: emu.get(device).json["status"] == "offline", what="offline from the retained message")


    def test_malformed_gathered_lifecycle_changes_nothing(self):
        """Only the service account may publish on /as/mqtt/statuses (the
        broker's ACL); what haas-emu cannot read there it skips, object by
        object, and the rest of a message still counts."""
        emu = self.emu
        pk = emu.product("garbled")
        devices = {}
        for dn in ("garbled-1", "garbled-2"):
            devices[dn] = Device(emu.mqtt_port, pk, dn, emu.device(pk, dn)["deviceSecret"]).connect()
        status = lambda dn: emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["status"]
        wait_for(lambda: status("garbled-1") == status("garbled-2") == "online", what="online")
        with open(os.path.join(emu.data_dir, "broker", "mosquitto.conf")) as f:
            conf = f.read()
        svc = mqtt.Client(client_id="garbler", protocol=mqtt.MQTTv311)
        svc.username_pw_set(re.search(r"plugin_opt_service_username (\S+)", conf).group(1),
                            re.search(r"plugin_opt_service_password (\S+)", conf).group(1))
        svc.connect("127.0.0.1", emu.mqtt_port)
        svc.loop_start()
        try:
            offline = {"status": "offline", "productKey": pk, "deviceName": "garbled-2", "time": 1,
                       "clientIp": "127.0.0.1", "lastTime": 1}
            garbage = [b"", b"{", b"[1, null, \"x\", []]", json.dumps(offline).encode(),  # not an array
                       json.dumps([{k: v for k, v in offline.items() if k != "productKey"}]).encode(),
                       json.dumps([dict(offline, productKey="a1NoSuchPk0")]).encode(),
                       json.dumps([dict(offline, deviceName="garbled/2")]).encode(),
                       json.dumps([dict(offline, status="gone")]).encode(), b"[" * 5000 + b"]" * 5000]
            for payload in garbage + [json.dumps([{"deviceName": 5}, dict(offline, deviceName="garbled-1")]).encode()]:
                svc.publish("/as/mqtt/statuses", payload, qos=1).wait_for_publish(timeout=10)
            # the last message's readable object counts; everything before it (in order) changed nothing
            wait_for(lambda: status("garbled-1") == "offline", what="the readable object applied")
            self.assertEqual(status("garbled-2"), "online")
            self.assertEqual(emu.get("/healthz").status, 200)
        finally:
            svc.loop_stop()
            svc.disconnect()
            for d in devices.values():
                d.close()


class BrokerRecoveryTest(EmulatorTest):
    def test_broker_killed_is_restarted_and_link_recovers(self):
        emu = self.emu
        pk = emu.product("recover")
        ds = emu.device(pk, "rec-1")["deviceSecret"]
        d = Device(emu.mqtt_port, pk, "rec-1", ds).connect()
        wait_for(lambda: emu.get("/api/v1/products/%s/devices/rec-1" % pk).json["status"] == "online", what="online")
        before = emu.get("/healthz").json
        os.kill(before["brokerPid"], signal.SIGKILL)
        self.assertTrue(d.disconnected.wait(TIMEOUT))
        d.close()
        after = wait_for(lambda: (lambda h: h if h["broker"] == "connected" and h["brokerStarts"] == 2 else None)(
            emu.get("/healthz").json), what="broker restarted and link reconnected")
        self.assertNotEqual(after["brokerPid"], before["brokerPid"])
        self.assertGreater(after["linkConnects"], before["linkConnects"])
        # the device was dropped with the old broker: offline until it comes back
        wait_for(lambda: emu.get("/api/v1/products/%s/devices/rec-1" % pk).json["status"] == "offline",
                 what="offline after broker loss")
        d = Device(emu.mqtt_port, pk, "rec-1", ds).connect()
        try:
            wait_for(lambda: emu.get("/api/v1/products/%s/devices/rec-1" % pk).json["status"] == "online",
                     what="online again")
            emu.app()
            emu.upload(APP_ID, package_name(), make_package({}))
            gid = emu.post("/api/v1/groups", {"name": "r"}).json["groupId"]
            emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "rec-1"}]})
            tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid}).json["taskId"]
            self.assertEqual(emu.post("/api/v1/tasks/%s/push" % tid).json["pushed"], 1)
            self.assertEqual(d.wait_push()["params"]["app"][0]["version"], "0.0.2")
        finally:
            d.close()


class ExternalBrokerTest(EmulatorTest):
    """--broker HOST:PORT: haas-emu uses a broker it did not start."""

    def test_external_broker(self):
        base = Emulator("external-base").start()  # provides a broker with the plugin
        try:
            conf = open(os.path.join(base.data_dir, "broker", "mosquitto.conf")).read()
            user = re.search(r"plugin_opt_service_username (\S+)", conf).group(1)
            password = re.search(r"plugin_opt_service_password (\S+)", conf).group(1)
            ext = Emulator("external-user", args=["--broker", "127.0.0.1:%d" % base.mqtt_port,
                                                  "--broker-username", user, "--broker-password", password],
                           data_dir=tempfile.mkdtemp(prefix="haas-ext-")).start()
            try:
                h = ext.get("/healthz").json
                self.assertEqual((h["broker"], h["brokerMode"]), ("connected", "external"))
                self.assertNotIn("brokerPid", h)
            finally:
                ext.stop()
        finally:
            base.stop()

