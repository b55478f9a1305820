"""Firmware OTA on the device side (issue 16): haas-device, the SDK's
standard Aliyun firmware OTA (sdk/include/haas_fw.h) with its A/B slots on
the POSIX port's flash files.

- against the real emulator (the REST and wire contract of firmware OTA):
  a firmware uploaded and a job created for one device; the device
  downloads the image from the emulator's HTTPS port with its CA (the URL
  has no port: --fw-download-port), reboots into the new slot, confirms,
  informs the new version, and the job's device state becomes succeeded;
  a new firmware that crashes on every start, and one that rejects itself,
  are rolled back: the old version is informed again and the job's device
  state is failed with code -1;
- power cuts at every durable step of a firmware upgrade (the port's
  HAAS_CRASH_AT crash injection), driven by a minimal pusher (a plain
  mosquitto and a loopback HTTP server with Range support, no emulator):
  after each cut the device boots an intact slot holding the old or the new
  version, and a cut download is resumed with a Range request.
"""
import hashlib
import http.server
import json
import os
import queue
import shutil
import signal
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import OUT, Emulator, ForeignBroker, free_ports, wait_for
from sim_device import SimDevice

OLD, NEW = "1.0.0", "1.0.1"
MIN_POWER_CUT_STEPS = 25


def image(size, seed):
    """A firmware image: any binary, different for each seed."""
    out, block = bytearray(), seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


# ---------------------------------------------------------------------------
# The minimal pusher: a loopback HTTP server with Range, and an MQTT client
# ---------------------------------------------------------------------------

class RangeServer:
    """Serves one image at /fw/<anything> on 127.0.0.1 over plain HTTP, with
    Range requests (206 + Content-Range + Content-Length), and records the
    Range header of every request."""

    def __init__(self, port, body):
        self.body, self.ranges = body, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.ranges.append(rng)
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                part = outer.body[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(outer.body) - 1,
                                                                         len(outer.body)))
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(part)
                except OSError:
                    pass  # the device died on purpose

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Pusher:
    """An anonymous MQTT client on the plain broker: sees what the device
    sends on /ota/device/# and /sys/#, and publishes upgrade pushes."""

    def __init__(self, port):
        self.inbox = queue.Queue()
        self.seen = []
        self.c = mqtt.Client(client_id="fw-pusher", clean_session=True, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self.c.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload.decode()))
        self.c.on_subscribe = lambda c, u, mid, q: subscribed.set()
        self.c.connect("127.0.0.1", port, 30)
        self.c.loop_start()
        self.c.subscribe([("/ota/device/#", 1), ("/sys/#", 1)])
        if not subscribed.wait(10):
            raise AssertionError("pusher: no SUBACK")

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def drain(self):
        while not self.inbox.empty():
            self.seen.append(self.inbox.get())

    def wait(self, pred, what, timeout=20, alive=None):
        """The next message (topic, payload as JSON) pred accepts; None when
        alive() turns false first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, payload = self.inbox.get(timeout=0.05)
            except queue.Empty:
                if alive and not alive():
                    return None
                continue
            self.seen.append((topic, payload))
            msg = json.loads(payload)
            if pred(topic, msg):
                return topic, msg
        raise AssertionError("timed out waiting for %s; seen %r" % (what, self.seen[-6:]))

    def push(self, pk, dn, data):
        info = self.c.publish("/ota/device/upgrade/%s/%s" % (pk, dn),
                              json.dumps({"code": "1000", "data": data, "id": 1507707025,
                                          "message": "success"}), 1)
        info.wait_for_publish(10)


def inform_of(version):
    return lambda t, m: t.startswith("/ota/device/inform/") and m["params"]["version"] == version


# ---------------------------------------------------------------------------
# (a), (b): against haas-emu's firmware OTA
# ---------------------------------------------------------------------------

class FirmwareAgainstEmulatorTest(unittest.TestCase):
    """The device side of the contract, with the emulator's REST API, broker
    and HTTPS downloads."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(cls.__module__ + "." + cls.__name__)
        cls.emu.args = ["--public-url", "https://127.0.0.1:%d" % cls.emu.https_port]
        cls.emu.start()
        r = cls.emu.get("/api/v1/products/none/ota/modules")
        if r.code != "ProductNotFound":  # the route itself is missing: the server side has not landed
            cls.emu.stop()
            raise unittest.SkipTest("haas-emu has no firmware OTA yet (GET .../ota/modules: %r)" % r)
        cls.pk = cls.emu.product("HaaS Core2 firmware")
        tmp = os.path.join(OUT, "firmware-device")
        os.makedirs(tmp, exist_ok=True)
        cls.cafile = os.path.join(tmp, "ca.pem")
        with open(cls.cafile, "wb") as f:
            f.write(cls.emu.get("/api/v1/ca.pem").body)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.stop()

    def device(self, dn, confirm="yes"):
        ds = self.emu.device(self.pk, dn)["deviceSecret"]
        d = SimDevice("fw-%s" % dn, self.emu, self.pk, dn, ds)
        d.install("0.0.1")
        self.devices.append(d)
        d.start(["--no-python", "--firmware-version", OLD, "--fw-download-port", str(self.emu.https_port),
                 "--ca-file", self.cafile, "--fw-confirm", confirm, "--fw-max-boots", "2"])
        d.wait_log("firmware version %s informed" % OLD)
        wait_for(lambda: self.module_version(dn) == OLD, what="%s reports firmware %s" % (dn, OLD))
        return d

    def module_version(self, dn):
        dev = self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json
        for m in dev.get("modules") or []:
            if m["moduleName"] == "default":
                return m["version"]
        return None

    def firmware(self, version, body, sign_method):
        r = self.emu.post("/api/v1/products/%s/firmwares?version=%s&module=default&name=fw-%s&signMethod=%s"
                          "&srcVersions=%s" % (self.pk, version, version, sign_method, OLD), body=body,
                          headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r)
        fw = r.json
        self.assertEqual((fw["size"], fw["md5"]), (len(body), hashlib.md5(body).hexdigest()))
        return fw["firmwareId"]

    def job(self, firmware_id, dn):
        r = self.emu.post("/api/v1/ota/jobs", {"firmwareId": firmware_id, "targetType": "devices", "devices": [dn]})
        self.assertEqual(r.status, 201, r)
        return r.json["jobId"]

    def job_device(self, job_id, dn):
        job = self.emu.get("/api/v1/ota/jobs/%s" % job_id).json
        return [x for x in job["devices"] if x["deviceName"] == dn][0]

    def test_a_upgrade_end_to_end_over_https(self):
        body = image(300 * 1024 + 7, "a")
        d = self.device("core2-fw-a")
        jid = self.job(self.firmware(NEW, body, "SHA256"), d.dn)
        d.wait_log("firmware %s installed" % NEW, timeout=60)
        d.wait_log("firmware %s confirmed" % NEW, timeout=30)
        d.wait_log("firmware version %s informed" % NEW, timeout=30)
        wait_for(lambda: self.job_device(jid, d.dn)["state"] == "succeeded", timeout=30,
                 what="job device state succeeded: %r" % (self.job_device(jid, d.dn),))
        self.assertEqual(self.module_version(d.dn), NEW)
        log = d.read_log()
        self.assertIn("firmware %s running from slot 1 (pending-verify)" % NEW, log)
        self.assertIn("firmware progress 100", log)
        self.assertEqual(d.fw_slot_image(1, len(body)), body)
        d.stop()
        self.assertEqual(d.boot_only_firmware(), (NEW, 1))

    def rollback(self, dn, confirm, sign_method):
        body = image(64 * 1024, dn)
        d = self.device(dn, confirm)
        jid = self.job(self.firmware(NEW + "-" + confirm, body, sign_method), d.dn)
        d.wait_log("firmware result -1 sent", timeout=60)
        d.wait_log("firmware version %s informed" % OLD, timeout=30)
        wait_for(lambda: self.job_device(jid, d.dn)["state"] == "failed", timeout=30,
                 what="job device state failed: %r" % (self.job_device(jid, d.dn),))
        self.assertEqual(self.job_device(jid, d.dn)["code"], -1)
        self.assertIn("rolled back to the previous slot", self.job_device(jid, d.dn)["reason"])  # the device's desc
        self.assertEqual(self.module_version(d.dn), OLD)
        d.stop()
        self.assertEqual(d.boot_only_firmware(), (OLD, 0))
        return d.read_log()

    def test_b_crash_loop_rolls_back(self):
        log = self.rollback("core2-fw-crash", "crash", "Md5")
        self.assertEqual(log.count("crashed on start"), 2)  # --fw-max-boots 2
        self.assertIn("did not confirm itself", log)

    def test_b_rejected_firmware_rolls_back(self):
        log = self.rollback("core2-fw-reject", "reject", "SHA256")
        self.assertEqual(log.count("rejects itself"), 1)
        self.assertIn("rejected itself", log)


# ---------------------------------------------------------------------------
# (c): power cuts, with the minimal pusher
# ---------------------------------------------------------------------------

def step_phase(op, path):
    if op == "flash_erase":
        return "erase"
    if op == "flash_write" and "/slot" in path:
        return "image"
    if op == "flash_write" and "/otadata" in path:
        return "otadata"
    if op == "flash_write" and "/task" in path:
        return "task"
    return "app journal"


class FirmwarePowerCutTest(unittest.TestCase):
    SIZE = 160 * 1024 + 3

    @classmethod
    def setUpClass(cls):
        mqtt_port, http_port = free_ports(2)
        cls.broker = ForeignBroker(mqtt_port)
        cls.body = image(cls.SIZE, "power-cut")
        cls.http = RangeServer(http_port, cls.body)
        cls.pusher = Pusher(mqtt_port)
        cls.pk, cls.dn = "a1PowerCut0", "core2-fw-cut"
        cls.data = {"size": len(cls.body), "version": NEW, "url": "http://127.0.0.1/fw/%s.bin?Expires=1" % NEW,
                    "md5": hashlib.md5(cls.body).hexdigest(), "sign": hashlib.sha256(cls.body).hexdigest(),
                    "signMethod": "SHA256", "module": "default"}
        cls.dev = SimDevice("fw-power-cut", None, cls.pk, cls.dn, "x" * 32, broker="127.0.0.1:%d" % mqtt_port)
        cls.args = ["--no-python", "--exit-after-result", "--firmware-version", OLD, "--fw-download-port",
                    str(http_port)]

    @classmethod
    def tearDownClass(cls):
        cls.pusher.close()
        cls.http.stop()
        cls.broker.stop()

    def run_device(self, env, extra=(), push=True):
        """One run: waits for the device's inform of OLD and pushes NEW (when
        push). Returns its exit status (-SIGKILL when the crash injection
        killed it)."""
        d = self.dev
        self.pusher.drain()
        d.start(self.args + list(extra), env=env)
        alive = lambda: d.proc.poll() is None  # noqa: E731
        if push and self.pusher.wait(inform_of(OLD), "inform of %s" % OLD, timeout=30, alive=alive):
            self.pusher.push(self.pk, self.dn, self.data)
        rc = d.wait_exit(timeout=60)
        d.check_sanitizers()
        return rc

    def fresh_flash(self):
        if os.path.exists(self.dev.root):
            shutil.rmtree(self.dev.root)
        self.dev.install("0.0.1")

    def trace_steps(self, extra, name):
        """One uninterrupted run listing its durable steps: [(n, op, path)]."""
        trace = os.path.join(OUT, "firmware-power-cut-%s.txt" % name)
        if os.path.exists(trace):
            os.remove(trace)
        self.fresh_flash()
        self.assertEqual(self.run_device({"HAAS_CRASH_TRACE": trace}, extra), 0, self.dev.read_log()[-3000:])
        with open(trace) as f:
            return [line.split(" ", 2) for line in f.read().splitlines()]

    def cut_everywhere(self, steps, extra):
        """A power cut at each step; after each the device boots an intact
        slot with OLD or NEW. Returns {OLD: n, NEW: n, "finished": n}."""
        d, outcomes = self.dev, {OLD: 0, NEW: 0, "finished": 0}
        for n in range(1, len(steps) + 1):
            with self.subTest(step=n, op=steps[n - 1][1], path=steps[n - 1][2]):
                self.fresh_flash()
                rc = self.run_device({"HAAS_CRASH_AT": str(n)}, extra)
                if rc == 0:  # fewer steps this time (the image came in other pieces)
                    outcomes["finished"] += 1
                else:
                    self.assertEqual(rc, -signal.SIGKILL, d.read_log()[-3000:])
                version, slot = d.boot_only_firmware()
                self.assertIn(version, (OLD, NEW))
                if version == NEW:
                    self.assertEqual(slot, 1)
                    self.assertEqual(d.fw_slot_image(1, self.SIZE), self.body)
                else:
                    self.assertEqual(slot, 0)
                outcomes[version] += 1
        return outcomes

    def test_c_power_cut_during_a_rollback(self):
        """The same over a new firmware that crashes on every start: the
        boots counted, the rollback and its -1 report."""
        extra = ["--fw-confirm", "crash", "--fw-max-boots", "2"]
        steps = self.trace_steps(extra, "rollback")
        log = self.dev.read_log()
        self.assertIn("firmware result -1 sent", log)
        self.assertEqual(self.pusher.wait(inform_of(OLD), "inform of %s after the rollback" % OLD)[0],
                         "/ota/device/inform/%s/%s" % (self.pk, self.dn))
        self.assertGreaterEqual(len([s for s in steps if "/otadata" in s[2]]), 4, steps)  # NEW, 2 boots, ABORTED
        outcomes = self.cut_everywhere(steps, extra)
        self.assertGreater(outcomes[OLD], 0, outcomes)
        self.assertGreater(outcomes[NEW], 0, outcomes)
        print("\n    firmware rollback power cut at %d steps: booted old %d times, new %d times" %
              (len(steps), outcomes[OLD], outcomes[NEW]))

    def test_c_power_cut_at_every_step(self):
        d = self.dev
        # 1. one whole upgrade, listing its durable steps
        steps = self.trace_steps([], "upgrade")
        self.assertIn("firmware version %s informed" % NEW, d.read_log())
        self.assertEqual(d.fw_slot_image(1, self.SIZE), self.body)
        phases = {}
        for n, op, path in steps:
            phases.setdefault(step_phase(op, path), []).append(int(n))
        self.assertGreaterEqual(len(steps), MIN_POWER_CUT_STEPS, steps)
        for phase in ("erase", "image", "otadata", "task"):
            self.assertIn(phase, phases)
        self.assertGreaterEqual(len(phases["otadata"]), 3, phases)  # the new entry, the boot counted, VALID

        # 2. cut the power at each step; the next boot runs an intact slot
        outcomes = self.cut_everywhere(steps, [])
        self.assertGreater(outcomes[OLD], 0, outcomes)
        self.assertGreater(outcomes[NEW], 0, outcomes)
        print("\n    firmware power cut at %d steps (%s): booted old %d times, new %d times, %d runs finished "
              "before their step" % (len(steps), ", ".join("%s %d" % (k, len(v)) for k, v in sorted(phases.items())),
                                     outcomes[OLD], outcomes[NEW], outcomes["finished"]))

        # 3. a cut in the middle of the download: the next run resumes it
        #    with a Range request, with no new push, and ends on NEW
        self.fresh_flash()
        image_steps = phases["image"]
        self.http.ranges.clear()
        self.assertEqual(self.run_device({"HAAS_CRASH_AT": str(image_steps[len(image_steps) // 2])}),
                         -signal.SIGKILL)
        self.assertEqual(self.run_device({}, push=False), 0, d.read_log()[-3000:])
        self.assertIn("firmware version %s informed" % NEW, d.read_log())
        self.assertTrue([r for r in self.http.ranges if r and not r.startswith("bytes=0-")], self.http.ranges)
        self.assertEqual(d.boot_only_firmware(), (NEW, 1))
