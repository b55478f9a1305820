"""Staged rollouts (docs/protocol.md section 13), for firmware (the standard
OTA notice) and for app releases (the HaaS upgrade push):

- 30 simulated Core2s (haas-device fleets) in 3 batches of 10, where 3
  devices of the second batch fail (a firmware that rejects itself; a
  package too big for the device): the rollout pauses by itself with the
  reason, the third batch is never pushed while it is paused, it resumes by
  hand and finishes;
- a dynamic rollout takes in a device that comes online later;
- a device that never answers times out and is retried;
- cancel stops further pushes; a rate limit holds; a scheduled start waits;
- bad requests are refused and change nothing.
"""
import os
import shutil
import subprocess
import tempfile
import time

from harness import APP_ID, OUT, ROOT, EmulatorTest, make_package, package_name, wait_for
from linksdk_device import LinkSdkDevice
from mqtt_device import Device
from sim_device import write_app

FLEET_DEVICE = os.environ.get("HAAS_FLEET_DEVICE", os.path.join(ROOT, "build", "haas-device"))
BAD = ("ro-12", "ro-15", "ro-18")  # in batch 2 of ro-00 .. ro-29


class RolloutTest(EmulatorTest):
    """Shared helpers; one emulator for the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="rollouts-")
        cls.cafile = os.path.join(cls.tmp, "ca.pem")
        with open(cls.cafile, "wb") as f:
            f.write(cls.emu.get("/api/v1/ca.pem").body)
        cls.fleets = []

    @classmethod
    def tearDownClass(cls):
        for proc, log in cls.fleets:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        super().tearDownClass()

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def rollout(self, body, status=201):
        r = self.emu.post("/api/v1/rollouts", body)
        self.assertEqual(r.status, status, r)
        return r.json

    def get(self, rid):
        return self.emu.get("/api/v1/rollouts/%s" % rid).json

    def wait_rollout(self, rid, pred, what, timeout=60):
        wait_for(lambda: pred(self.get(rid)), timeout=timeout, what="rollout %s: %s" % (rid, what))
        return self.get(rid)

    def states(self, rollout):
        return {d["deviceName"]: d["state"] for d in rollout["devices"]}

    def history(self, rid, pk, dn):
        r = self.emu.get("/api/v1/rollouts/%s/devices/%s/%s" % (rid, pk, dn))
        self.assertEqual(r.status, 200, r)
        return [h["state"] for h in r.json["history"]]

    def make_devices(self, pk, names):
        out = {}
        for dn in names:
            out[dn] = self.emu.device(pk, dn)["deviceSecret"]
        return out

    def start_fleet(self, name, pk, secrets, extra, app_version=None):
        """One haas-device process running the given devices (release build:
        30 simulated devices under ASan would not fit a small CI machine)."""
        work = os.path.join(OUT, "devices", "rollouts-" + name)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(os.path.join(work, "roots"))
        fleet_file = os.path.join(work, "fleet.txt")
        with open(fleet_file, "w") as f:
            for dn, ds in sorted(secrets.items()):
                f.write("%s %s %s\n" % (pk, dn, ds))
        args = [FLEET_DEVICE, "--fleet", fleet_file, "--broker", "127.0.0.1:%d" % self.emu.mqtt_port,
                "--root", os.path.join(work, "roots"), "--threads", "2"] + list(extra)
        if app_version:
            template = os.path.join(work, "template")
            write_app(template, app_version, {"main.py": "print('%s')\n" % app_version})
            args += ["--init-app", template]
        log = open(os.path.join(OUT, "logs", "device-rollouts-%s.log" % name), "wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.fleets.append((proc, log))
        return proc

    def online_count(self, pk):
        items = self.emu.get("/api/v1/products/%s/devices?limit=500" % pk).json["items"]
        return sum(1 for d in items if d["status"] == "online")

    def linksdk(self, pk, dn, ds, version):
        d = LinkSdkDevice(self.emu.mqtt_port, pk, dn, ds).connect()
        self.clients.append(d)
        d.ota_inform(version)
        wait_for(lambda: any(m["version"] == version for m in
                             self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["modules"]),
                 what="%s informs %s" % (dn, version))
        return d

    def upload_firmware(self, pk, version="1.0.1", src="1.0.0", data=b"\x7fFW" * 50000):
        r = self.emu.post("/api/v1/products/%s/firmwares?version=%s&srcVersions=%s" % (pk, version, src), body=data,
                          headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r)
        return r.json["firmwareId"]

    def three_batches(self, rid, pk):
        """The common story: batch 1 succeeds, batch 2 pauses the rollout on
        its 3 failures (batch 3 untouched), resume, completion."""
        paused = self.wait_rollout(rid, lambda r: r["status"] == "paused", "paused by itself", timeout=120)
        self.assertEqual(paused["currentBatch"], 2)
        self.assertIn("batch 2: 3 of 10 devices failed or timed out", paused["pauseReason"])
        states = self.states(paused)
        self.assertEqual(sorted(dn for dn, s in states.items() if s == "failed"), list(BAD))
        self.assertTrue(all(states["ro-%02d" % i] == "succeeded" for i in range(10)), states)
        self.assertTrue(all(states["ro-%02d" % i] == "waiting" for i in range(20, 30)), states)
        batches = paused["batchList"]
        self.assertEqual([(b["batch"], b["status"], b["size"]) for b in batches],
                         [(1, "done", 10), (2, paused["batchList"][1]["status"], 10), (3, "waiting", 10)])
        r = self.emu.post("/api/v1/rollouts/%s/resume" % rid)
        self.assertEqual((r.status, r.json["pauseReason"]), (200, None))
        done = self.wait_rollout(rid, lambda r: r["status"] == "completed", "completed", timeout=120)
        self.assertEqual((done["counts"]["succeeded"], done["counts"]["failed"], done["counts"]["total"]), (27, 3, 30))
        self.assertEqual(done["currentBatch"], 3)
        self.assertIsNotNone(done["endedAt"])
        bad = self.history(rid, pk, BAD[0])
        self.assertEqual(bad[:2], ["queued", "pushed"])
        self.assertEqual(bad[-1], "failed")
        good = self.history(rid, pk, "ro-25")
        self.assertEqual((good[0], good[-1]), ("queued", "succeeded"))
        return done


class FirmwareRolloutTest(RolloutTest):

    def test_three_batches_pause_by_themselves_resume_and_finish(self):
        pk = self.emu.product("core2 rollout")
        secrets = self.make_devices(pk, ["ro-%02d" % i for i in range(30)])
        fw = self.upload_firmware(pk)
        common = ["--firmware-version", "1.0.0", "--fw-download-port", str(self.emu.https_port),
                  "--ca-file", self.cafile, "--fw-max-boots", "2"]
        self.start_fleet("fw-good", pk, {k: v for k, v in secrets.items() if k not in BAD}, common)
        self.start_fleet("fw-bad", pk, {k: v for k, v in secrets.items() if k in BAD},
                         common + ["--fw-confirm", "reject"])
        wait_for(lambda: self.online_count(pk) == 30, timeout=60, what="30 devices online")
        wait_for(lambda: all(self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["modules"]
                             for dn in secrets), timeout=30, what="30 firmware informs")
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "name": "core2 1.0.1", "targetType": "product",
                           "batches": ["10", "10", "10"], "successPercent": 100, "errorPercent": 20,
                           "timeoutSeconds": 120})
        self.assertEqual((ro["status"], ro["counts"]["total"], ro["srcVersions"]), ("running", 30, ["1.0.0"]))
        self.three_batches(ro["rolloutId"], pk)
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/ro-29" % pk).json["modules"][0]["version"],
                         "1.0.1")

    def test_dynamic_rollout_takes_in_a_device_that_comes_online_later(self):
        pk = self.emu.product("core2 dynamic")
        fw = self.upload_firmware(pk)
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "product", "dynamic": True})
        self.assertEqual(ro["counts"]["total"], 0)
        secrets = self.make_devices(pk, ["late-01", "late-02"])
        late = self.linksdk(pk, "late-01", secrets["late-01"], "1.0.0")
        self.linksdk(pk, "late-02", secrets["late-02"], "0.9.0")  # not on a from-version: left out
        self.assertEqual(late.wait_ota_upgrade()["data"]["version"], "1.0.1")
        late.ota_progress(100)
        late.ota_inform("1.0.1")
        ro = self.wait_rollout(ro["rolloutId"], lambda r: r["counts"]["succeeded"] == 1, "late-01 succeeded")
        self.assertEqual(list(self.states(ro)), ["late-01"])
        self.assertEqual(ro["status"], "running")  # a dynamic rollout waits for more devices
        self.assertEqual(self.history(ro["rolloutId"], pk, "late-01"),
                         ["queued", "pushed", "installing", "succeeded"])
        self.assertEqual(self.emu.post("/api/v1/rollouts/%s/cancel" % ro["rolloutId"]).json["status"], "canceled")

    def test_a_silent_device_times_out_and_is_retried(self):
        pk = self.emu.product("core2 retry")
        secrets = self.make_devices(pk, ["slow-01"])
        fw = self.upload_firmware(pk)
        d = self.linksdk(pk, "slow-01", secrets["slow-01"], "1.0.0")
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "devices", "devices": ["slow-01"],
                           "timeoutSeconds": 1, "maxRetries": 1, "retrySeconds": 1})
        d.wait_ota_upgrade()  # ignored: no answer
        self.wait_rollout(ro["rolloutId"], lambda r: self.states(r)["slow-01"] == "timedOut", "timed out")
        d.wait_ota_upgrade()  # the retry
        d.ota_inform("1.0.1")
        done = self.wait_rollout(ro["rolloutId"], lambda r: r["status"] == "completed", "completed")
        self.assertEqual((done["devices"][0]["state"], done["devices"][0]["attempts"]), ("succeeded", 2))
        self.assertEqual(self.history(ro["rolloutId"], pk, "slow-01"),
                         ["queued", "pushed", "timedOut", "queued", "pushed", "succeeded"])

    def test_cancel_stops_further_pushes(self):
        pk = self.emu.product("core2 cancel")
        secrets = self.make_devices(pk, ["c-01", "c-02", "c-03", "c-04"])
        fw = self.upload_firmware(pk)
        devs = {dn: self.linksdk(pk, dn, ds, "1.0.0") for dn, ds in secrets.items()}
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "product", "batches": ["2", "2"]})
        for dn in ("c-01", "c-02"):
            devs[dn].wait_ota_upgrade()
        r = self.emu.post("/api/v1/rollouts/%s/cancel" % ro["rolloutId"])
        self.assertEqual((r.status, r.json["status"], r.json["counts"]["canceled"]), (200, "canceled", 4))
        self.assertEqual(self.emu.post("/api/v1/rollouts/%s/cancel" % ro["rolloutId"]).json["code"], "RolloutEnded")
        devs["c-01"].ota_inform("1.0.1")  # a late result of a canceled rollout changes nothing
        for d in devs.values():
            d.barrier()
        self.assertFalse(any(t.startswith("/ota/device/upgrade/") for d in (devs["c-03"], devs["c-04"])
                             for t, _ in d.seen), "batch 2 was pushed after the cancel")
        self.assertEqual(set(self.states(self.get(ro["rolloutId"])).values()), {"canceled"})

    def test_rate_limit_holds(self):
        pk = self.emu.product("core2 rate")
        names = ["r-%02d" % i for i in range(6)]
        secrets = self.make_devices(pk, names)
        fw = self.upload_firmware(pk)
        devs = [self.linksdk(pk, dn, secrets[dn], "1.0.0") for dn in names]
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "product", "ratePerMinute": 2})
        rid = ro["rolloutId"]
        self.wait_rollout(rid, lambda r: r["counts"]["pushed"] == 2, "2 pushed")
        # a second later (four engine steps) it still holds at 2 of 6
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            counts = self.get(rid)["counts"]
            self.assertEqual((counts["pushed"], counts["queued"]), (2, 4))
        notified = [d.dn for d in devs if not d.inbox.empty()]
        self.assertEqual(len(notified), 2, notified)

    def test_scheduled_start_waits(self):
        pk = self.emu.product("core2 schedule")
        secrets = self.make_devices(pk, ["s-01"])
        fw = self.upload_firmware(pk)
        d = self.linksdk(pk, "s-01", secrets["s-01"], "1.0.0")
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "product", "startAt": start})
        self.assertEqual((ro["status"], ro["startAt"], ro["currentBatch"]), ("scheduled", start, 0))
        self.assertEqual(self.states(ro), {"s-01": "waiting"})
        d.barrier()
        self.assertFalse(any(t.startswith("/ota/device/upgrade/") for t, _ in d.seen))
        self.assertEqual(d.wait_ota_upgrade(timeout=10)["data"]["version"], "1.0.1")
        self.assertEqual(self.get(ro["rolloutId"])["status"], "running")
        self.assertGreaterEqual(time.time(), time.mktime(time.strptime(start, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)

    def test_pause_by_hand_and_bad_requests(self):
        pk = self.emu.product("core2 bad")
        fw = self.upload_firmware(pk)
        self.make_devices(pk, ["b-01"])
        bad = [({"kind": "os", "firmwareId": fw, "targetType": "product"}, "InvalidRollout"),
               ({"kind": "firmware", "targetType": "product"}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "all"}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "batches": ["0"]}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "batches": ["101%"]},
                "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "batches": "1,,2"}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "successPercent": 0},
                "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "maxRetries": 11}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "startAt": "tomorrow"},
                "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "product", "dynamic": "yes"}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "devices", "devices": ["b-01"],
                 "dynamic": True}, "InvalidRollout"),
               ({"kind": "firmware", "firmwareId": "nope", "targetType": "product"}, "FirmwareNotFound"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "group", "groupId": "nope"}, "GroupNotFound"),
               ({"kind": "firmware", "firmwareId": fw, "targetType": "devices", "devices": ["b-99"]},
                "DeviceNotFound"),
               ({"kind": "app", "productKey": pk, "appId": APP_ID, "version": "9.9.9", "targetType": "product"},
                "VersionNotFound")]
        for body, code in bad:
            self.assertEqual(self.emu.post("/api/v1/rollouts", body).json.get("code"), code, body)
        self.assertEqual(self.emu.get("/api/v1/rollouts?productKey=%s" % pk).json["total"], 0)
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        ro = self.rollout({"kind": "firmware", "firmwareId": fw, "targetType": "product", "startAt": start,
                           "rolloutId": "ro-fixed"})
        self.assertEqual(self.emu.post("/api/v1/rollouts", {"kind": "firmware", "firmwareId": fw,
                                                            "targetType": "product", "rolloutId": "ro-fixed"}
                                       ).json["code"], "RolloutExists")
        self.assertEqual(self.emu.post("/api/v1/rollouts/ro-fixed/resume").json["code"], "RolloutNotPaused")
        r = self.emu.post("/api/v1/rollouts/ro-fixed/pause")
        self.assertEqual((r.json["status"], r.json["pauseReason"]), ("paused", "paused by hand"))
        self.assertEqual(self.emu.post("/api/v1/rollouts/ro-fixed/pause").json["code"], "RolloutNotRunning")
        self.assertEqual(self.emu.post("/api/v1/rollouts/ro-fixed/resume").json["status"], "scheduled")
        self.assertEqual(self.emu.post("/api/v1/rollouts/nope/pause").json["code"], "RolloutNotFound")
        self.assertEqual(ro["rolloutId"], "ro-fixed")


class AppRolloutTest(RolloutTest):
    """The same through the HaaS upgrade push: an app release."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emu.app()
        for ver in ("0.0.2",):
            r = cls.emu.upload(APP_ID, package_name(ver), make_package({"main.py": "print('%s')\n" % ver},
                                                                       version=ver))
            assert r.status == 201, r

    def test_app_release_in_three_batches_pauses_resumes_and_finishes(self):
        pk = self.emu.product("core2 app release")
        secrets = self.make_devices(pk, ["ro-%02d" % i for i in range(30)])
        self.start_fleet("app-good", pk, {k: v for k, v in secrets.items() if k not in BAD}, [], "0.0.1")
        # packages bigger than 64 bytes are refused by these three: app.result 404
        self.start_fleet("app-bad", pk, {k: v for k, v in secrets.items() if k in BAD}, ["--max-package-size", "64"],
                         "0.0.1")
        wait_for(lambda: self.online_count(pk) == 30, timeout=60, what="30 devices online")
        wait_for(lambda: all(self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["apps"]
                             for dn in secrets), timeout=30, what="30 app queries")
        ro = self.rollout({"kind": "app", "productKey": pk, "appId": APP_ID, "version": "0.0.2",
                           "targetType": "product", "srcVersions": ["0.0.1"], "batches": "10,10,10",
                           "errorPercent": 20, "timeoutSeconds": 120})
        self.assertEqual((ro["kind"], ro["appId"], ro["counts"]["total"]), ("app", APP_ID, 30))
        done = self.three_batches(ro["rolloutId"], pk)
        codes = {d["deviceName"]: d["code"] for d in done["devices"] if d["state"] == "failed"}
        self.assertEqual(codes, {dn: 404 for dn in BAD})

    def test_app_release_retry_dynamic_and_cancel(self):
        pk = self.emu.product("core2 app dynamic")
        secrets = self.make_devices(pk, ["d-01"])
        ro = self.rollout({"kind": "app", "productKey": pk, "appId": APP_ID, "version": "0.0.2",
                           "targetType": "product", "dynamic": True, "srcVersions": ["0.0.1"],
                           "timeoutSeconds": 1, "maxRetries": 1, "retrySeconds": 1})
        self.assertEqual(ro["counts"]["total"], 0)  # d-01 never told what it runs
        d = Device(self.emu.mqtt_port, pk, "d-01", secrets["d-01"])
        d.connect()
        self.clients.append(d)
        d.query({APP_ID: "0.0.1"})
        first = d.wait_push()  # ignored: it times out, then the retry comes
        rid = ro["rolloutId"]
        self.wait_rollout(rid, lambda r: r["devices"] and r["devices"][0]["state"] == "timedOut", "timed out")
        second = d.wait_push()
        self.assertNotEqual(first["params"]["haasTraceId"], second["params"]["haasTraceId"])
        d.result(200, APP_ID, "0.0.2", "0.0.1")
        got = self.wait_rollout(rid, lambda r: r["counts"]["succeeded"] == 1, "d-01 succeeded")
        self.assertEqual(got["devices"][0]["attempts"], 2)
        self.assertEqual(self.emu.post("/api/v1/rollouts/%s/cancel" % rid).json["status"], "canceled")

    def test_app_release_rate_limit_holds(self):
        pk = self.emu.product("core2 app rate")
        secrets = self.make_devices(pk, ["ar-01", "ar-02", "ar-03"])
        devs = []
        for dn, ds in sorted(secrets.items()):
            d = Device(self.emu.mqtt_port, pk, dn, ds)
            d.connect()
            self.clients.append(d)
            d.query({APP_ID: "0.0.1"})
            devs.append(d)
        wait_for(lambda: all(self.emu.get("/api/v1/products/%s/devices/%s" % (pk, dn)).json["apps"]
                             for dn in secrets), what="3 app queries")
        ro = self.rollout({"kind": "app", "productKey": pk, "appId": APP_ID, "version": "0.0.2",
                           "targetType": "product", "ratePerMinute": 1})
        rid = ro["rolloutId"]
        self.wait_rollout(rid, lambda r: r["counts"]["pushed"] == 1, "1 pushed")
        deadline = time.monotonic() + 1.5  # six engine steps later it still holds
        while time.monotonic() < deadline:
            counts = self.get(rid)["counts"]
            self.assertEqual((counts["pushed"], counts["queued"]), (1, 2))
        pushed = 0
        for d in devs:
            try:
                d.wait_push(timeout=0.5)
                pushed += 1
            except AssertionError:
                pass
        self.assertEqual(pushed, 1)
