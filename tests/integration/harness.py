"""Shared test fixtures: a real haas-emu process on a loopback port with its
own data directory, an HTTP client, and package builders.

The binary under test is $HAAS_EMU (default build/asan/haas-emu, built with
AddressSanitizer and UBSan by `make test`). An emulator that printed a
sanitizer report fails the test that stopped it.
"""
import gzip
import http.client
import io
import json
import os
import queue
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import unittest

import paho.mqtt.client as mqtt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "out")
EMU = os.environ.get("HAAS_EMU", os.path.join(ROOT, "build", "asan", "haas-emu"))
APP_NAME, APP_ID = "python9000", "8800100099990000"
OSS_SECRET = "test-secret-0123456789"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def asan_runtime(binary):
    """Path of libasan when binary was built with AddressSanitizer, else None."""
    try:
        linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in linked.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split("(")[0].strip()
    return None


def emu_env():
    """The environment haas-emu runs in under test: sanitizer options and,
    for the sanitizer build, libasan preloaded so that the managed
    mosquitto can load the sanitizer build of the plugin too."""
    env = dict(os.environ)
    env.update({"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0", "UBSAN_OPTIONS": "print_stacktrace=1",
                "LSAN_OPTIONS": "suppressions=" + os.path.join(ROOT, "tests", "integration", "lsan-mosquitto.supp")})
    if asan_runtime(EMU):
        env["LD_PRELOAD"] = asan_runtime(EMU)
    return env


def free_port():
    return free_ports(1)[0]


def free_ports(n):
    """n distinct free loopback ports (held together while chosen, so the
    kernel cannot hand out one twice)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def broker_service_account(emu):
    """The username and password of haas-emu's service account on its
    managed broker (fresh at every start), read from the broker's
    configuration."""
    with open(os.path.join(emu.data_dir, "broker", "mosquitto.conf")) as f:
        conf = f.read()
    return (re.search(r"plugin_opt_service_username (\S+)", conf).group(1),
            re.search(r"plugin_opt_service_password (\S+)", conf).group(1))


class LinkTakenOver:
    """Another client holding haas-emu's MQTT session, as a cut link would
    leave it: with `with LinkTakenOver(emu) as messages:` the broker sends
    what is meant for haas-emu to this client (its messages, a queue of
    (topic, payload)) until haas-emu's link logs in again, about a second
    later, and takes the session back."""

    def __init__(self, emu):
        self.emu, self.messages, self.took_over = emu, queue.Queue(), queue.Queue()
        user, password = broker_service_account(emu)
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(emu.data_dir, "haas.db"), uri=True)
        instance = db.execute("SELECT value FROM settings WHERE key = 'instance_id'").fetchone()[0]
        db.close()
        self.client = mqtt.Client(client_id="haas-emu-" + instance, clean_session=False,
                                  protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        self.client.username_pw_set(user, password)
        self.client.on_connect = lambda c, u, flags, rc: self.took_over.put((rc, flags.get("session present")))
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))

    def __enter__(self):
        self.link_connects = self.emu.get("/healthz").json["linkConnects"]
        self.client.connect("127.0.0.1", self.emu.mqtt_port)
        self.client.loop_start()
        rc, session = self.took_over.get(timeout=10)
        assert (rc, session) == (0, 1), "did not take haas-emu's session over: rc %s, session %s" % (rc, session)
        return self.messages

    def __exit__(self, *exc):
        self.client.loop_stop()
        self.client.disconnect()

    def wait_link_back(self):
        """Returns once haas-emu's link has logged in again."""
        wait_for(lambda: self.emu.get("/healthz").json["linkConnects"] > self.link_connects,
                 what="haas-emu's link back")


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class ForeignBroker:
    """A plain anonymous mosquitto on 127.0.0.1:port, as Debian's own
    mosquitto service runs one on 1883: a broker that is not the emulator's."""

    def __init__(self, port):
        self.dir = tempfile.mkdtemp(prefix="foreign-broker-")  # removed by stop()
        conf = os.path.join(self.dir, "m.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % port)
            if os.geteuid() == 0:
                f.write("user root\n")
        self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, what="foreign mosquitto on %d" % port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


TLS_TEMPLATE = os.path.join(OUT, "tls-template")


def reuse_tls(data_dir):
    """Gives a fresh data directory the local CA and server certificate of
    an earlier test run, as a restarted emulator would find them: haas-emu
    reuses them when they match (tls_certs.c) instead of making two RSA keys
    at every one of the suite's many starts. The first start makes them."""
    tls = os.path.join(data_dir, "tls")
    if os.path.isdir(TLS_TEMPLATE) and not os.path.exists(tls):
        shutil.copytree(TLS_TEMPLATE, tls)


def keep_tls(data_dir):
    """Keeps the TLS files of a started emulator for reuse_tls()."""
    tls = os.path.join(data_dir, "tls")
    if not os.path.isdir(TLS_TEMPLATE) and os.path.exists(os.path.join(tls, "server.names")):
        shutil.copytree(tls, TLS_TEMPLATE + ".tmp", dirs_exist_ok=True)
        os.replace(TLS_TEMPLATE + ".tmp", TLS_TEMPLATE)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def code(self):
        try:
            return self.json.get("code")
        except (ValueError, AttributeError):
            return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Emulator:
    """One haas-emu process. Use as a context manager or start()/stop()."""

    def __init__(self, name, args=(), data_dir=None, env=None, oss_secret=OSS_SECRET):
        self.name = name
        self.port, self.mqtt_port, self.mqtts_port, self.https_port = free_ports(4)
        self.data_dir = data_dir or os.path.join(OUT, "data", name)
        self.args = list(args)
        self.env = env or {}
        self.oss_secret = oss_secret
        self.proc = None
        self.log_path = os.path.join(OUT, "logs", name + ".log")

    def start(self, fresh=True, wait=True):
        if fresh and os.path.exists(self.data_dir):
            shutil.rmtree(self.data_dir)
        if fresh:
            reuse_tls(self.data_dir)
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        env = emu_env()
        env.update(self.env)
        cmd = [EMU, "--http-port", str(self.port), "--mqtt-port", str(self.mqtt_port), "--data-dir", self.data_dir,
               "--mqtts-port", str(self.mqtts_port), "--https-port", str(self.https_port)]
        if self.oss_secret:
            cmd += ["--oss-access-key-secret", self.oss_secret]
        cmd += self.args
        self.log = open(self.log_path, "wb" if fresh else "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if wait:
            wait_for(self.ready, timeout=20, what="haas-emu /healthz on port %d" % self.port)
            keep_tls(self.data_dir)
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("haas-emu exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, check=True):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        rc, self.proc = self.proc.returncode, None
        if check:
            text = self.read_log()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    raise AssertionError("sanitizer report in %s:\n%s" % (self.log_path, text[-4000:]))
            if rc != 0:
                raise AssertionError("haas-emu exited with %d:\n%s" % (rc, text[-2000:]))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)

    # -- HTTP --
    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdrs = dict(headers or {})
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def upload(self, app_id, filename, data):
        from urllib.parse import quote
        return self.post("/api/v1/apps/%s/versions?filename=%s" % (app_id, quote(filename)), body=data,
                         headers={"Content-Type": "application/gzip"})

    # -- fixtures --
    def product(self, name="demo"):
        r = self.post("/api/v1/products", {"name": name})
        assert r.status == 201, r
        return r.json["productKey"]

    def device(self, pk, dn):
        r = self.post("/api/v1/products/%s/devices" % pk, {"deviceName": dn})
        assert r.status == 201, r
        return r.json

    def app(self, name=APP_NAME, app_id=APP_ID):
        r = self.post("/api/v1/apps", {"appName": name, "appId": app_id})
        assert r.status == 201, r
        return r.json

    def packages_on_disk(self):
        found = []
        for base in ("packages", "tmp"):
            for dirpath, _, files in os.walk(os.path.join(self.data_dir, base)):
                found += [os.path.join(dirpath, f) for f in files]
        return sorted(found)


def make_package(files, name=APP_NAME, app_id=APP_ID, version="0.0.2", manifest=True):
    """A .tar.gz like `tar czf NAME *` run inside the app folder."""
    files = dict(files)
    if manifest:
        files.setdefault("manifest.json", json.dumps({"appName": name, "version": version, "appid": app_id}))
    files.setdefault("main.py", 'print("new version upgrade success.")\n')
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for path, content in sorted(files.items()):
                data = content.encode() if isinstance(content, str) else content
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mtime = 1700000000
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def package_name(version="0.0.2", name=APP_NAME, app_id=APP_ID):
    return "%s-%s-%s.tar.gz" % (name, app_id, version)


class EmulatorTest(unittest.TestCase):
    """A test class sharing one emulator across its tests (setUpClass)."""
    emulator_args = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(cls.__module__ + "." + cls.__name__, cls.emulator_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
