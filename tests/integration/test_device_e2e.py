"""The tutorial end to end with real processes: haas-emu with its managed
mosquitto, and haas-device (the SDK on its Linux port) as the Core2.

Also: a push of an older or equal version is ignored, a corrupt package
ends as 404 with the old app intact, an app that does not start is rolled
back (405), a download cut in the middle resumes, and every package of the
bad-package corpus, served anyway, is refused with the old app intact."""
import json
import os
import re
import socket
import threading

import paho.mqtt.client as mqtt

from harness import APP_ID, OUT, Emulator, EmulatorTest, package_name, wait_for
from sim_device import SimDevice, read_app, tutorial_package

OLD_MAIN = 'print("Python App Upgrade Program")\nimport utime\nwhile True:\n    utime.sleep(1)\n'
NEW_MAIN = ('import ujson, utime, kv\n'
            'with open("manifest.json") as f:\n'
            '    print(ujson.dumps(ujson.loads(f.read()), indent=2))\n'
            'kv.set("upgraded", 1)\n'
            'print("new version upgrade success.")\n'
            'print("new version upgrade success.")\n')


class DeviceTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pk = cls.emu.product("HaaS Core2")
        cls.emu.app()
        cls.work = os.path.join(OUT, "packages", cls.__name__)
        os.makedirs(cls.work, exist_ok=True)

    def setUp(self):
        self.devices = []

    def tearDown(self):
        for d in self.devices:
            d.stop()

    def new_device(self, dn, version="0.0.1", files=None):
        ds = self.emu.device(self.pk, dn)["deviceSecret"]
        d = SimDevice("%s-%s" % (type(self).__name__, dn), self.emu, self.pk, dn, ds)
        d.install(version, files or {"main.py": OLD_MAIN})
        self.devices.append(d)
        return d

    def start_online(self, d, extra=()):
        """Starts the simulator and returns once the emulator sees it online."""
        d.start(extra)
        d.wait_log("link platform connected")
        wait_for(lambda: self.device_json(d.dn)["status"] == "online", what="%s online" % d.dn)

    def device_json(self, dn):
        return self.emu.get("/api/v1/products/%s/devices/%s" % (self.pk, dn)).json

    def wait_reported(self, dn, version):
        wait_for(lambda: {"appId": APP_ID, "version": version} in self.device_json(dn)["apps"],
                 what="%s reports %s" % (dn, version), timeout=20)

    def upload(self, version, files):
        path, data = tutorial_package(self.work, version, files)
        r = self.emu.upload(APP_ID, os.path.basename(path), data)
        self.assertEqual(r.status, 201, r)
        return data

    def task_for(self, dn, version):
        gid = self.emu.post("/api/v1/groups", {"name": "测试分组 " + dn}).json["groupId"]
        self.emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": self.pk, "deviceName": dn}]})
        r = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": gid})
        self.assertEqual(r.status, 201, r)
        return r.json["taskId"]

    def push(self, tid):
        r = self.emu.post("/api/v1/tasks/%s/push" % tid)
        self.assertEqual(r.status, 200, r)
        return r.json

    def wait_task_state(self, tid, dn, state, code=None, timeout=40):
        def current():
            for d in self.emu.get("/api/v1/tasks/" + tid).json["devices"]:
                if d["deviceName"] == dn:
                    return d["state"], d["code"]
        return wait_for(lambda: current() == (state, code), timeout=timeout,
                        what="%s %s/%s in %s (now %s)" % (dn, state, code, tid, current()))

    def service_publish(self, topic, payload):
        conf = open(os.path.join(self.emu.data_dir, "broker", "mosquitto.conf")).read()
        user = re.search(r"plugin_opt_service_username (\S+)", conf).group(1)
        pw = re.search(r"plugin_opt_service_password (\S+)", conf).group(1)
        c = mqtt.Client(client_id="test-publisher", protocol=mqtt.MQTTv311)
        c.username_pw_set(user, pw)
        c.connect("127.0.0.1", self.emu.mqtt_port)
        c.loop_start()
        info = c.publish(topic, payload, 1)
        info.wait_for_publish(timeout=10)
        c.disconnect()
        c.loop_stop()

    def manifest_version(self, d):
        with open(os.path.join(d.app_dir, "manifest.json")) as f:
            return json.load(f)["version"]


class TutorialTest(DeviceTest):
    def test_tutorial_end_to_end(self):
        d = self.new_device("core2-tutorial")
        d.start()
        d.wait_log("subscribed topic success: /sys/%s/core2-tutorial/thing/service/hli_service_upgrade_push" % self.pk)
        log = d.read_log()
        for line in ("==== python execute bootpy ====", "==== python file check /data/pyamp/main.py ====",
                     "==== python execute from /data/pyamp/main.py ====", '"version": "0.0.1"',
                     "link platform connected"):
            self.assertIn(line, log)
        d.wait_log("Python App Upgrade Program")
        wait_for(lambda: self.device_json("core2-tutorial")["status"] == "online", what="online")
        self.wait_reported("core2-tutorial", "0.0.1")

        self.upload("0.0.2", {"main.py": NEW_MAIN, "lib/helper.py": "X = 1\n"})
        tid = self.task_for("core2-tutorial", "0.0.2")
        self.assertEqual(self.push(tid)["pushed"], 1)
        self.wait_task_state(tid, "core2-tutorial", "succeeded", 200)

        self.assertEqual(self.manifest_version(d), "0.0.2")
        self.assertEqual(read_app(d.app_dir)["lib/helper.py"], b"X = 1\n")
        log = d.read_log()
        self.assertIn("local version[0.0.1] low,upgrade to [0.0.2].", log)
        self.assertIn("new version upgrade success.", log)
        self.assertIn('"version": "0.0.2"', log)
        self.assertGreaterEqual(log.count("==== python execute bootpy ===="), 2)  # it restarted
        with open(os.path.join(d.root, "data", "kv.json")) as f:
            self.assertEqual(json.load(f), {"upgraded": 1})  # the kv compat module worked
        self.assertEqual(self.device_json("core2-tutorial")["apps"], [{"appId": APP_ID, "version": "0.0.2"}])
        # nothing of the install is left behind
        self.assertEqual(sorted(os.listdir(os.path.join(d.root, "data", ".haas"))), [])


class FailureTest(DeviceTest):
    def test_older_or_equal_push_is_ignored(self):
        d = self.new_device("core2-ignore", "0.0.5")
        d.start()
        d.wait_log("link platform connected")
        url = "http://127.0.0.1:%d/haas-emu/x.tar.gz" % self.emu.port
        for version in ("0.0.5", "0.0.4", "0.0.10x"):
            push = {"id": "1", "version": "1.0", "method": "thing.service.hli_service_upgrade_push",
                    "params": {"app": [{"size": 10, "appId": APP_ID, "rollingBack": 0, "version": version,
                                        "url": url, "md5": "0" * 32, "needRestart": 0}],
                               "appUpdateCount": 1, "errorCode": "200", "needUpdateFirmware": 0,
                               "haasTraceId": "x"}}
            self.service_publish("/sys/%s/core2-ignore/thing/service/hli_service_upgrade_push" % self.pk,
                                 json.dumps(push))
            d.wait_log("push of %s ignored" % version)
        self.assertNotIn("local version", d.read_log())
        self.assertEqual(self.manifest_version(d), "0.0.5")

    def test_corrupt_package_fails_404_and_keeps_the_old_app(self):
        d = self.new_device("core2-corrupt")
        before = read_app(d.app_dir)
        data = self.upload("0.0.3", {"main.py": NEW_MAIN})
        stored = os.path.join(self.emu.data_dir, "packages", APP_ID, package_name("0.0.3"))
        with open(stored, "r+b") as f:  # flip bytes in the middle: same size, wrong md5
            f.seek(len(data) // 2)
            f.write(bytes(b ^ 0xFF for b in data[len(data) // 2:len(data) // 2 + 8]))
        tid = self.task_for("core2-corrupt", "0.0.3")
        self.start_online(d)
        self.push(tid)
        self.wait_task_state(tid, "core2-corrupt", "failed", 404)
        self.assertEqual(read_app(d.app_dir), before)
        self.assertIn("md5 mismatch", d.read_log())

    def test_app_that_does_not_start_is_rolled_back_405(self):
        d = self.new_device("core2-rollback")
        before = read_app(d.app_dir)
        self.upload("0.0.4", {"main.py": "import sys\nprint('broken build')\nsys.exit(3)\n"})
        tid = self.task_for("core2-rollback", "0.0.4")
        self.start_online(d)
        self.push(tid)
        self.wait_task_state(tid, "core2-rollback", "failed", 405)
        self.assertEqual(read_app(d.app_dir), before)
        log = d.read_log()
        self.assertIn("broken build", log)
        self.assertIn("rolled back to 0.0.1", log)
        self.assertEqual(self.device_json("core2-rollback")["apps"], [{"appId": APP_ID, "version": "0.0.1"}])


class CuttingProxy:
    """A TCP relay that drops the first package download after cut_after
    bytes of response and passes everything else through."""

    def __init__(self, upstream_port, cut_after):
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.cuts = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client):
        with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as up:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            with self.lock:
                self.requests.append(request.decode("latin-1"))
                cut = self.cuts == 0 and b".tar.gz" in request.split(b"\r\n")[0]
                if cut:
                    self.cuts += 1
            up.sendall(request)
            sent = 0
            while True:
                data = up.recv(4096)
                if not data:
                    return
                if cut and sent + len(data) > self.cut_after:
                    client.sendall(data[:self.cut_after - sent])
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(data)
                sent += len(data)

    def close(self):
        self.sock.close()


class ResumeTest(DeviceTest):
    """The emulator hands out package URLs through a proxy that cuts the
    first download in the middle; the device resumes with a Range request."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(cls.__module__ + ".ResumeTest")
        cls.proxy = CuttingProxy(cls.emu.port, cut_after=40000)
        cls.emu.args = ["--public-url", "http://127.0.0.1:%d" % cls.proxy.port]
        cls.emu.start()
        cls.pk = cls.emu.product("HaaS Core2")
        cls.emu.app()
        cls.work = os.path.join(OUT, "packages", cls.__name__)
        os.makedirs(cls.work, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.proxy.close()

    def test_cut_download_resumes(self):
        d = self.new_device("core2-resume")
        big = os.urandom(96 * 1024)  # incompressible: the package is ~96 KiB
        self.upload("0.1.0", {"main.py": NEW_MAIN, "assets/blob.bin": big})
        tid = self.task_for("core2-resume", "0.1.0")
        self.start_online(d)
        self.push(tid)
        self.wait_task_state(tid, "core2-resume", "succeeded", 200)
        self.assertEqual(read_app(d.app_dir)["assets/blob.bin"], big)
        self.assertEqual(self.proxy.cuts, 1)
        gets = [r for r in self.proxy.requests if ".tar.gz" in r.split("\r\n")[0]]
        self.assertEqual(len(gets), 2, gets)
        m = re.search(r"(?im)^range: bytes=(\d+)-\r?$", gets[1])
        self.assertIsNotNone(m, gets[1])
        self.assertGreater(int(m.group(1)), 0)
        self.assertLessEqual(int(m.group(1)), 40000)
        self.assertIn("download cut; resuming", d.read_log())


class MaliciousPackageTest(DeviceTest):
    """Every package of the corpus (tests/corpus/bad-packages.tsv), which the
    emulator refuses at upload, served by a plain HTTP server and pushed
    straight to the device as the version its manifest names (0.0.2, above
    the installed 0.0.1), so that only what is wrong with the package can
    fail it: each must end as the result the TSV gives (404 or 405), with the
    old app intact and nothing written outside the app folder. The device has
    the limits the corpus was made for. A good package served the same way
    then installs: the refusals are the packages' doing."""

    LIMITS = ["--max-package-size", str(512 * 1024), "--max-unpacked-size", str(2 << 20), "--max-entries", "64"]

    def serve(self, directory):
        import functools
        import http.server

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server.server_address[1]

    def push_served(self, d, url, data, msg_id, version="0.0.2"):
        """Pushes url (whose bytes are data) as version; returns the code of
        the result the device then sends (None when it ignored the push), and
        its log of the attempt."""
        import hashlib
        before = len(d.read_log())
        push = {"id": str(msg_id), "version": "1.0", "method": "thing.service.hli_service_upgrade_push",
                "params": {"app": [{"size": len(data), "appId": APP_ID, "rollingBack": 0, "version": version,
                                    "url": url, "md5": hashlib.md5(data).hexdigest(), "needRestart": 0}],
                           "appUpdateCount": 1, "errorCode": "200", "needUpdateFirmware": 0, "haasTraceId": "x"}}
        self.service_publish("/sys/%s/%s/thing/service/hli_service_upgrade_push" % (self.pk, d.dn), json.dumps(push))
        done = re.compile(r"upgrade result (\d+) sent|push of \S+ ignored")
        wait_for(lambda: done.search(d.read_log()[before:]) or d._died(), timeout=30,
                 what="the result of %s" % url)
        log = d.read_log()[before:]
        if not done.search(log):
            raise AssertionError("haas-device exited (%s):\n%s" % (d.proc.returncode, log[-3000:]))
        m = done.search(log)
        return (int(m.group(1)) if m.group(1) else None), log

    def test_corpus_packages_are_refused(self):
        from test_package_corpus import CORPUS, load_cases
        corpus = os.path.join(CORPUS, "bad-packages")
        port = self.serve(corpus)
        d = self.new_device("core2-evil")
        before = read_app(d.app_dir)
        self.start_online(d, self.LIMITS)
        cases = [(file, device) for file, _, _, _, device in load_cases(with_device=True) if device]
        self.assertGreaterEqual(len(cases), 40)
        for i, (name, code) in enumerate(cases):
            # no subTest: once a bad package is installed, the pushes after it are ignored
            with open(os.path.join(corpus, name + ".tar.gz"), "rb") as f:
                data = f.read()
            got, log = self.push_served(d, "http://127.0.0.1:%d/%s.tar.gz" % (port, name), data, 100 + i)
            self.assertEqual(got, code, "%s: app.result %s, want %s\n%s" % (name, got, code, log))
            self.assertIn("upgrade to 0.0.2 failed (%d)" % code, log)
            self.assertEqual(read_app(d.app_dir), before, name)
        # nothing escaped: the flash holds the app and the SDK's (empty) work folder
        found = sorted(os.path.relpath(os.path.join(p, f), d.root) for p, _, fs in os.walk(d.root) for f in fs)
        self.assertEqual(found, sorted(os.path.join("data", "pyamp", f) for f in before))
        self.assertEqual(os.listdir(os.path.join(d.root, "data", ".haas")), [])
        # a good package, served and pushed the same way, installs
        good_dir = os.path.join(self.work, "served-good")
        os.makedirs(good_dir, exist_ok=True)
        path, data = tutorial_package(good_dir, "0.0.2", {"main.py": 'print("new version upgrade success.")\n'})
        good_port = self.serve(good_dir)
        got, log = self.push_served(d, "http://127.0.0.1:%d/%s" % (good_port, os.path.basename(path)), data, 99)
        self.assertEqual(got, 200, log)
        self.assertEqual(self.manifest_version(d), "0.0.2")


class FleetTest(DeviceTest):
    def test_fleet_upgrade(self):
        import shutil
        import subprocess
        from sim_device import DEVICE, write_app
        n = 20
        r = self.emu.post("/api/v1/products/%s/devices" % self.pk, {"count": n, "prefix": "fleet-"})
        devices = r.json["items"]
        fleet_dir = os.path.join(OUT, "devices", "fleet")
        shutil.rmtree(fleet_dir, ignore_errors=True)
        template = os.path.join(fleet_dir, "template")
        write_app(template, "0.0.1", {"main.py": OLD_MAIN})
        fleet_file = os.path.join(fleet_dir, "fleet.txt")
        with open(fleet_file, "w") as f:
            for x in devices:
                f.write("%s %s %s\n" % (x["productKey"], x["deviceName"], x["deviceSecret"]))
        roots = os.path.join(fleet_dir, "roots")
        os.makedirs(roots)
        log = open(os.path.join(OUT, "logs", "device-fleet.log"), "wb")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
        env.pop("LD_PRELOAD", None)
        proc = subprocess.Popen([DEVICE, "--fleet", fleet_file, "--broker", "127.0.0.1:%d" % self.emu.mqtt_port,
                                 "--root", roots, "--init-app", template, "--threads", "2"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for(lambda: self.emu.get("/api/v1/products/%s/devices?status=online&limit=1" % self.pk)
                     .json["total"] >= n, what="fleet online", timeout=30)
            self.upload("0.0.7", {"main.py": NEW_MAIN})
            gid = self.emu.post("/api/v1/groups", {"name": "fleet"}).json["groupId"]
            self.emu.post("/api/v1/groups/%s/devices" % gid,
                          {"devices": [{"productKey": self.pk, "deviceName": x["deviceName"]} for x in devices]})
            tid = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.7", "groupId": gid}).json["taskId"]
            self.assertEqual(self.push(tid)["pushed"], n)
            wait_for(lambda: self.emu.get("/api/v1/tasks/" + tid).json["counts"]["succeeded"] == n,
                     what="all %d succeeded" % n, timeout=60)
            for x in devices:
                with open(os.path.join(roots, x["deviceName"], "data", "pyamp", "manifest.json")) as f:
                    self.assertEqual(json.load(f)["version"], "0.0.7")
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=30), 0)
            log.close()
        with open(os.path.join(OUT, "logs", "device-fleet.log"), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for mark in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            self.assertNotIn(mark, text)
