"""Standard Aliyun IoT firmware OTA (docs/protocol.md section 12) with
devices that speak the OTA topics exactly as Link SDK C 4.x does
(linksdk_device.py: bare numeric ids, no SUBSCRIBE, QoS 0, the download
module's HTTP/1.1 requests with Range and a URL without port): modules,
firmware uploads, version informs, firmware/get, upgrade jobs to a group,
to a device list and to a product's devices on given versions, progress,
success, the failure steps -1..-4, devices that come online after the job
started, cancel, supersede, timeouts, and the REST errors.
"""
import hashlib
import json
import os
import subprocess
import tempfile
import unittest
import urllib.parse

from harness import EMU, Emulator, EmulatorTest, LinkTakenOver, emu_env, free_ports, wait_for
from linksdk_device import (TIMEOUT, LinkSdkDevice, check_ota_data, linksdk_download, linksdk_url_parts)

FIRMWARE = bytes(range(256)) * 1024 + b"core2-fw-1.1.0"  # 256 KiB and a tail


class FirmwareOtaTest(EmulatorTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        emu = cls.emu
        cls.tmp = tempfile.mkdtemp(prefix="fw-ota-")
        r = emu.get("/api/v1/ca.pem")
        assert r.status == 200, r
        cls.cafile = os.path.join(cls.tmp, "ca.pem")
        with open(cls.cafile, "wb") as f:
            f.write(r.body)

    def setUp(self):
        self.devices = []
        self.pk = self.emu.product("core2-%s" % self._testMethodName[-20:])

    def tearDown(self):
        for d in self.devices:
            d.close()

    # -- helpers --
    def linksdk(self, dn, version="1.0.0", module=None, connect=True):
        ds = self.emu.device(self.pk, dn)["deviceSecret"]
        d = LinkSdkDevice(self.emu.mqtt_port, self.pk, dn, ds)
        self.devices.append(d)
        if connect:
            self.boot(d, version, module)
        return d

    def boot(self, d, version, module=None):
        """What firmware does after CONNACK: inform its version."""
        if d.c.is_connected():
            d.reconnect()
        else:
            d.connect()
        d.ota_inform(version, module)
        self.wait_module(d.dn, module or "default", version)

    def wait_module(self, dn, module, version):
        def reported():
            mods = self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json["modules"]
            return any(m["moduleName"] == module and m["version"] == version for m in mods)
        wait_for(reported, what="%s reports %s %s" % (dn, module, version))

    def upload(self, version="1.1.0", data=FIRMWARE, **query):
        q = dict(version=version, **query)
        r = self.emu.post("/api/v1/products/%s/firmwares?%s" % (self.pk, urllib.parse.urlencode(q)), body=data,
                          headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r)
        return r.json

    def group_of(self, *names):
        gid = self.emu.post("/api/v1/groups", {"name": "fw"}).json["groupId"]
        r = self.emu.post("/api/v1/groups/%s/devices" % gid,
                          {"devices": [{"productKey": self.pk, "deviceName": n} for n in names]})
        self.assertEqual(r.status, 200, r)
        return gid

    def job(self, body, status=201):
        r = self.emu.post("/api/v1/ota/jobs", body)
        self.assertEqual(r.status, status, r)
        return r.json

    def job_device(self, jid, dn):
        job = self.emu.get("/api/v1/ota/jobs/%s" % jid).json
        return next(d for d in job["devices"] if d["deviceName"] == dn)

    def wait_state(self, jid, dn, state):
        wait_for(lambda: self.job_device(jid, dn)["state"] == state, what="%s %s in job %s" % (dn, state, jid))
        return self.job_device(jid, dn)

    # -- the whole loop --
    def test_group_job_inform_progress_success_with_a_linksdk_device(self):
        fw = self.upload("1.1.0", signMethod="SHA256", srcVersions="1.0.0")
        self.assertEqual(fw["md5"], hashlib.md5(FIRMWARE).hexdigest())
        self.assertEqual(fw["sha256"], hashlib.sha256(FIRMWARE).hexdigest())
        self.assertEqual((fw["size"], fw["sign"], fw["signMethod"], fw["moduleName"], fw["srcVersions"]),
                         (len(FIRMWARE), fw["sha256"], "SHA256", "default", ["1.0.0"]))
        d = self.linksdk("core2-a")
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "group", "groupId": self.group_of("core2-a")})
        self.assertEqual(job["counts"]["total"], 1, job)

        msg = d.wait_ota_upgrade()
        self.assertEqual((msg["code"], msg["message"]), ("1000", "success"))
        self.assertIsInstance(msg["id"], int)
        data = msg["data"]
        self.assertEqual((data["size"], data["version"], data["signMethod"], data["sign"], data["md5"],
                          data["module"]),
                         (len(FIRMWARE), "1.1.0", "SHA256", fw["sha256"], fw["md5"], "default"))
        host, _ = linksdk_url_parts(data["url"])
        self.assertEqual(host, "127.0.0.1", "the URL must carry no port: %s" % data["url"])
        self.assertTrue(data["url"].startswith("https://"), data["url"])
        self.wait_state(job["jobId"], "core2-a", "pushed")

        # the download module: ranges over TLS to the port the firmware is set to
        status, headers, first = linksdk_download(data["url"], self.emu.https_port, self.cafile, 0, 99999)
        self.assertEqual((status, headers["Content-Range"]), (206, "bytes 0-99999/%d" % len(FIRMWARE)))
        d.ota_progress(38)
        self.assertEqual(self.wait_state(job["jobId"], "core2-a", "downloading")["progress"], 38)
        status, _, rest = linksdk_download(data["url"], self.emu.https_port, self.cafile, 100000)
        self.assertEqual(status, 206)
        self.assertEqual(hashlib.sha256(first + rest).hexdigest(), data["sign"])
        d.ota_progress(100)
        wait_for(lambda: self.job_device(job["jobId"], "core2-a")["progress"] == 100, what="progress 100")
        self.assertEqual(self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json["status"], "inProgress")

        # reboot into the new firmware: informing the target version is success
        self.boot(d, "1.1.0")
        done = self.wait_state(job["jobId"], "core2-a", "succeeded")
        self.assertEqual((done["fromVersion"], done["code"]), ("1.0.0", None))
        wait_for(lambda: self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json["status"] == "completed",
                 what="job completed")
        job = self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json
        self.assertEqual((job["counts"]["succeeded"], job["counts"]["total"]), (1, 1))
        self.assertIsNotNone(job["endedAt"])

    def test_plain_http_url_when_configured_and_an_md5_signed_firmware(self):
        # the default https:// base is checked above; the md5 sign here
        fw = self.upload("2.0.0")
        self.assertEqual((fw["signMethod"], fw["sign"]), ("Md5", fw["md5"]))
        d = self.linksdk("core2-md5")
        self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-md5"]})
        data = d.wait_ota_upgrade()["data"]
        status, headers, body = linksdk_download(data["url"], self.emu.https_port, self.cafile)
        self.assertEqual((status, int(headers["Content-Length"])), (206, len(FIRMWARE)))
        self.assertEqual(hashlib.md5(body).hexdigest(), data["sign"])

    def test_firmware_get_answers_the_pending_upgrade_and_empty_data_otherwise(self):
        d = self.linksdk("core2-get")
        aid = d.ota_query_firmware()
        reply = d.wait_firmware_get_reply(aid)
        self.assertEqual((reply["code"], reply["data"], reply["method"]), (200, {}, "thing.ota.firmware.get"))
        fw = self.upload("1.2.0")
        d.close()  # offline: the job queues it
        self.wait_device_status("core2-get", "offline")
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-get"]})
        self.assertEqual(job["devices"][0]["state"], "queued")
        d.reconnect()
        d.ota_inform("1.0.0")  # the notice came at connect already; firmware/get asks again
        d.wait_ota_upgrade()
        aid = d.ota_query_firmware()
        reply = check_ota_data(d.wait_firmware_get_reply(aid))
        self.assertEqual((reply["data"]["version"], reply["id"]), ("1.2.0", aid))
        self.assertEqual(self.job_device(job["jobId"], "core2-get")["state"], "pushed")

    def wait_device_status(self, dn, status):
        wait_for(lambda: self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json["status"] == status,
                 what="%s %s" % (dn, status))

    def test_a_device_that_comes_online_after_the_job_started_gets_it(self):
        fw = self.upload("1.3.0")
        late = self.linksdk("core2-late", connect=False)
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-late"]})
        self.assertEqual((job["counts"]["queued"], job["devices"][0]["deviceStatus"]), (1, "inactive"))
        late.connect()  # no SUBSCRIBE, no inform yet: the connect alone brings it
        self.assertEqual(late.wait_ota_upgrade()["data"]["version"], "1.3.0")
        self.assertEqual(self.wait_state(job["jobId"], "core2-late", "pushed")["pushCount"], 1)

    def test_a_device_that_came_online_while_the_link_was_away_gets_it_when_the_link_returns(self):
        """Its "online" went, gathered, to whoever held haas-emu's session;
        the retained copy the broker sends again when haas-emu's link
        subscribes brings the notice (the link publishes by then:
        mqtt_link.c on_connect)."""
        fw = self.upload("1.3.1")
        late = self.linksdk("core2-away", connect=False)
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-away"]})
        taken = LinkTakenOver(self.emu)
        with taken as messages:
            late.connect()
            topic, payload = messages.get(timeout=TIMEOUT)
            self.assertEqual((topic, [(s["deviceName"], s["status"]) for s in json.loads(payload)]),
                             ("/as/mqtt/statuses", [("core2-away", "online")]))
            taken.wait_link_back()
            self.assertEqual(late.wait_ota_upgrade()["data"]["version"], "1.3.1")
        self.assertEqual(self.wait_state(job["jobId"], "core2-away", "pushed")["pushCount"], 1)

    def test_failure_steps_end_failed_with_their_reason(self):
        fw = self.upload("1.4.0")
        names = ["core2-f1", "core2-f2", "core2-f3", "core2-f4"]
        devs = [self.linksdk(n) for n in names]
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "group", "groupId": self.group_of(*names)})
        meanings = ["upgrade failed", "download failed", "verify failed", "burn failed"]
        for i, d in enumerate(devs):
            d.wait_ota_upgrade()
            d.ota_progress(10)
            self.wait_state(job["jobId"], d.dn, "downloading")
            d.ota_progress(-(i + 1))
        for i, d in enumerate(devs):
            row = self.wait_state(job["jobId"], d.dn, "failed")
            self.assertEqual((row["code"], row["reason"]), (-(i + 1), meanings[i]))
        job = self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json
        self.assertEqual((job["status"], job["counts"]["failed"]), ("completed", 4))

    def test_progress_that_is_no_step_changes_nothing(self):
        fw = self.upload("1.4.1")
        d = self.linksdk("core2-bad")
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-bad"]})
        d.wait_ota_upgrade()
        topic = "/ota/device/progress/%s/%s" % (self.pk, d.dn)
        for payload in ('{"id":1, "params":{"step":"-5","desc":""}}', '{"id":2, "params":{"step":"101"}}',
                        '{"id":3, "params":{"step":"4x"}}', '{"id":4, "params":"no"}', 'not json',
                        '{"id":5, "params":{"step":"50","module":7}}'):
            d.c.publish(topic, payload, 0)
        d.ota_progress(7)  # a good one after them all: applied in order
        row = self.wait_state(job["jobId"], "core2-bad", "downloading")
        self.assertEqual((row["progress"], row["code"]), (7, None))

    def test_named_module_informs_and_jobs(self):
        r = self.emu.post("/api/v1/products/%s/ota/modules" % self.pk, {"moduleName": "MCU", "alias": "co-cpu"})
        self.assertEqual(r.status, 201, r)
        mods = self.emu.get("/api/v1/products/%s/ota/modules" % self.pk).json
        self.assertEqual([m["moduleName"] for m in mods["items"]], ["default", "MCU"])
        self.assertEqual(mods["total"], 2)
        fw = self.upload("3.0.1", module="MCU")
        d = self.linksdk("core2-mcu")
        d.ota_inform("3.0.0", "MCU")
        self.wait_module("core2-mcu", "MCU", "3.0.0")
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "product", "srcVersions": ["3.0.0"]})
        self.assertEqual(job["counts"]["total"], 1, job)
        self.assertEqual(d.wait_ota_upgrade()["data"]["module"], "MCU")
        d.ota_progress(-3, "MCU")
        self.assertEqual(self.wait_state(job["jobId"], "core2-mcu", "failed")["code"], -3)
        self.assertEqual(self.emu.delete("/api/v1/products/%s/ota/modules/MCU" % self.pk).code, "ModuleInUse")
        self.assertEqual(self.emu.delete("/api/v1/products/%s/ota/modules/default" % self.pk).code, "ModuleDefault")

    def test_product_job_takes_only_devices_on_the_given_versions(self):
        fw = self.upload("5.0.0")
        self.linksdk("core2-v1", "4.0.0")
        self.linksdk("core2-v2", "4.1.0")
        self.linksdk("core2-v3", "5.0.0")  # on the target already
        self.emu.device(self.pk, "core2-v4")  # never reported
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "product", "srcVersions": ["4.0.0", "4.1.0"]})
        self.assertEqual(sorted(d["deviceName"] for d in job["devices"]), ["core2-v1", "core2-v2"])
        every = self.job({"firmwareId": fw["firmwareId"], "targetType": "product"})
        self.assertEqual(sorted(d["deviceName"] for d in every["devices"]), ["core2-v1", "core2-v2", "core2-v4"])
        # the newer job took over the devices the older one still waited for
        old = self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json
        self.assertEqual(old["counts"]["canceled"], 2, old)
        self.assertTrue(all(d["reason"] == "superseded by job %s" % every["jobId"] for d in old["devices"]))
        self.assertEqual(old["status"], "completed")

    def test_cancel_stops_further_pushes(self):
        fw = self.upload("6.0.0")
        on = self.linksdk("core2-on")
        off = self.linksdk("core2-off", connect=False)
        job = self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-on", "core2-off"]})
        on.wait_ota_upgrade()
        mark = len(on.seen)
        r = self.emu.post("/api/v1/ota/jobs/%s/cancel" % job["jobId"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["counts"]["canceled"]), ("canceled", 2))
        self.assertEqual(self.emu.post("/api/v1/ota/jobs/%s/cancel" % job["jobId"]).code, "JobEnded")
        off.connect()
        aid = off.ota_query_firmware()
        self.assertEqual(off.wait_firmware_get_reply(aid)["data"], {})
        on.ota_progress(50)  # a late progress of a canceled job changes nothing
        aid = on.ota_query_firmware()
        self.assertEqual(on.wait_firmware_get_reply(aid)["data"], {})
        on.barrier()
        off.barrier()
        for d, since in ((on, mark), (off, 0)):
            self.assertFalse(any(t.startswith("/ota/device/upgrade/") for t, _ in d.seen[since:]),
                             "%s got a notice after the cancel" % d.dn)
        self.assertEqual(self.job_device(job["jobId"], "core2-on")["state"], "canceled")
        self.assertEqual(self.emu.delete("/api/v1/firmwares/%s" % fw["firmwareId"]).status, 204)
        self.assertEqual(self.emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).code, "JobNotFound")

    def test_rest_refuses_bad_input_and_changes_nothing(self):
        base = "/api/v1/products/%s/firmwares" % self.pk
        bad = [("?version=", b"x", "InvalidFirmware"), ("?version=1.0/..", b"x", "InvalidFirmware"),
               ("?version=1.0&signMethod=crc32", b"x", "InvalidFirmware"), ("?version=1.0", b"", "EmptyPackage"),
               ("?version=1.0&srcVersions=1.0,,2", b"x", "InvalidFirmware"),
               ("?version=1.0&srcVersions=1,1", b"x", "InvalidFirmware"),
               ("?version=1.0&module=nope", b"x", "ModuleNotFound")]
        for query, body, code in bad:
            r = self.emu.post(base + query, body=body, headers={"Content-Type": "application/octet-stream"})
            self.assertEqual(r.code, code, (query, r))
        r = self.emu.post("/api/v1/products/a1NoSuchPrd/firmwares?version=1.0", body=b"x",
                          headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.code, "ProductNotFound")
        self.assertEqual(self.emu.get("/api/v1/firmwares?productKey=%s" % self.pk).json["total"], 0)
        fw = self.upload("7.0.0")
        r = self.emu.post(base + "?version=7.0.0", body=b"again", headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.code, "FirmwareExists")
        jobs = [({"targetType": "devices", "devices": ["core2-x"]}, "InvalidJob"),
                ({"firmwareId": fw["firmwareId"], "targetType": "all"}, "InvalidJob"),
                ({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": []}, "InvalidJob"),
                ({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["a/b"]}, "InvalidJob"),
                ({"firmwareId": fw["firmwareId"], "targetType": "product", "timeoutMinutes": 1441}, "InvalidJob"),
                ({"firmwareId": fw["firmwareId"], "targetType": "product", "srcVersions": [1]}, "InvalidJob"),
                ({"firmwareId": "nope", "targetType": "product"}, "FirmwareNotFound"),
                ({"firmwareId": fw["firmwareId"], "targetType": "group", "groupId": "nope"}, "GroupNotFound"),
                ({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-none"]},
                 "DeviceNotFound")]
        for body, code in jobs:
            self.assertEqual(self.emu.post("/api/v1/ota/jobs", body).code, code, body)
        self.assertEqual(self.emu.get("/api/v1/ota/jobs?firmwareId=%s" % fw["firmwareId"]).json["total"], 0)
        for body, code in [({"moduleName": "a b"}, "InvalidModule"), ({"moduleName": 5}, "InvalidModule"),
                           ({"moduleName": "default"}, "ModuleExists")]:
            self.assertEqual(self.emu.post("/api/v1/products/%s/ota/modules" % self.pk, body).code, code)
        self.assertEqual(self.emu.get("/api/v1/firmwares/nope").code, "FirmwareNotFound")
        on_disk = os.path.join(self.emu.data_dir, "packages", "fw", fw["firmwareId"] + ".bin")
        self.assertTrue(os.path.exists(on_disk))
        self.assertEqual(self.emu.delete("/api/v1/firmwares/%s" % fw["firmwareId"]).status, 204)
        self.assertFalse(os.path.exists(on_disk))

    def test_a_firmware_url_is_signed_and_expires_like_a_package_url(self):
        fw = self.upload("8.0.0")
        d = self.linksdk("core2-url")
        self.job({"firmwareId": fw["firmwareId"], "targetType": "devices", "devices": ["core2-url"]})
        url = d.wait_ota_upgrade()["data"]["url"]
        tampered = url.replace("Signature=", "Signature=A")
        status, _, body = linksdk_download(tampered, self.emu.https_port, self.cafile)
        self.assertEqual(status, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)


class FirmwareOtaTimeoutTest(EmulatorTest):
    """A job's timeout, with a plain http:// firmware base (firmware built
    without TLS downloads on port 80; here from the emulator's HTTP port)."""
    emulator_args = ("--firmware-url", "http://127.0.0.1")

    def test_a_pushed_device_that_never_answers_times_out(self):
        emu = self.emu
        pk = emu.product("core2-timeout")
        ds = emu.device(pk, "core2-slow")["deviceSecret"]
        d = LinkSdkDevice(emu.mqtt_port, pk, "core2-slow", ds).connect()
        try:
            r = emu.post("/api/v1/products/%s/firmwares?version=9.0.0" % pk, body=FIRMWARE,
                         headers={"Content-Type": "application/octet-stream"})
            self.assertEqual(r.status, 201, r)
            job = emu.post("/api/v1/ota/jobs", {"firmwareId": r.json["firmwareId"], "targetType": "devices",
                                                "devices": ["core2-slow"], "timeoutMinutes": 1}).json
            data = d.wait_ota_upgrade()["data"]
            self.assertTrue(data["url"].startswith("http://127.0.0.1/"), data["url"])
            status, _, body = linksdk_download(data["url"], emu.port)
            self.assertEqual((status, len(body)), (206, len(FIRMWARE)))
            # a minute passes: the emulator's clock is real time today, so
            # the job is made older in its database instead of waiting
            db = os.path.join(emu.data_dir, "haas.db")
            import sqlite3
            with sqlite3.connect(db) as c:
                c.execute("UPDATE ota_job_devices SET pushed_at = pushed_at - 61 WHERE job_id = ?", (job["jobId"],))
            wait_for(lambda: emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json["devices"][0]["state"] == "timedOut",
                     timeout=TIMEOUT, what="timedOut")
            job = emu.get("/api/v1/ota/jobs/%s" % job["jobId"]).json
            self.assertEqual((job["status"], job["counts"]["timedOut"]), ("completed", 1))
        finally:
            d.close()


class FirmwareSeedTest(unittest.TestCase):
    """--seed with modules, firmware and an OTA job: idempotent, refused
    when the firmware's bytes differ, and the job reaches its device when
    it first connects."""

    def write_seed(self, folder, firmware=FIRMWARE):
        with open(os.path.join(folder, "core2-fw-1.1.0.bin"), "wb") as f:
            f.write(firmware)
        seed = {"products": [{"productKey": "a1SeedFwOta", "name": "core2",
                              "devices": [{"deviceName": "core2-seed", "deviceSecret": "S" * 32}],
                              "modules": [{"moduleName": "MCU", "alias": "co-cpu"}],
                              "firmwares": [{"firmwareId": "fw-core2-110", "file": "core2-fw-1.1.0.bin",
                                             "version": "1.1.0", "signMethod": "SHA256",
                                             "srcVersions": ["1.0.0"]}]}],
                "otaJobs": [{"jobId": "job-core2", "firmwareId": "fw-core2-110", "targetType": "devices",
                             "devices": ["core2-seed"], "timeoutMinutes": 30}],
                "rollouts": [{"rolloutId": "ro-core2", "kind": "firmware", "firmwareId": "fw-core2-110",
                              "targetType": "product", "dynamic": True, "batches": ["1", "100%"],
                              "startAt": "2030-01-01T00:00:00Z"}]}
        path = os.path.join(folder, "seed.json")
        with open(path, "w") as f:
            json.dump(seed, f)
        return path

    def snapshot(self, emu):
        return {p: emu.get(p).json for p in ("/api/v1/products/a1SeedFwOta/ota/modules",
                                             "/api/v1/firmwares/fw-core2-110", "/api/v1/ota/jobs/job-core2",
                                             "/api/v1/rollouts/ro-core2")}

    def test_seeded_firmware_and_job(self):
        folder = tempfile.mkdtemp(prefix="fw-seed-")
        seed = self.write_seed(folder)
        emu = Emulator("fw-seed", ["--seed", seed]).start()
        try:
            first = self.snapshot(emu)
            self.assertEqual(first["/api/v1/firmwares/fw-core2-110"]["sha256"], hashlib.sha256(FIRMWARE).hexdigest())
            self.assertEqual([m["moduleName"] for m in first["/api/v1/products/a1SeedFwOta/ota/modules"]["items"]],
                             ["default", "MCU"])
            self.assertEqual(first["/api/v1/ota/jobs/job-core2"]["devices"][0]["state"], "queued")
            ro = first["/api/v1/rollouts/ro-core2"]
            self.assertEqual((ro["status"], ro["dynamic"], ro["batches"]), ("scheduled", True, ["1", "100%"]))
        finally:
            emu.stop()
        emu.start(fresh=False)  # the same seed again changes nothing
        try:
            self.assertEqual(self.snapshot(emu), first)
            d = LinkSdkDevice(emu.mqtt_port, "a1SeedFwOta", "core2-seed", "S" * 32).connect()
            try:
                self.assertEqual(d.wait_ota_upgrade()["data"]["version"], "1.1.0")
            finally:
                d.close()
        finally:
            emu.stop()
        self.write_seed(folder, FIRMWARE + b"!")
        http_port, mqtt_port = free_ports(2)  # two calls of free_port() may give the same port
        r = subprocess.run([EMU, "--http-port", str(http_port), "--mqtt-port", str(mqtt_port),
                            "--mqtts-port", "0", "--https-port", "0", "--data-dir", emu.data_dir, "--seed", seed],
                           capture_output=True, text=True, timeout=60, env=emu_env())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("firmware fw-core2-110 exists with other bytes", r.stderr)
