"""Integration test of build/haas_auth.so inside a real mosquitto broker.

What it covers (docs/protocol.md sections 2, 3 and 5): device authentication of every
clientId form seen in the wild and every sign method, the rejection cases,
the service account, the per-device ACL (publish and subscribe, wildcards
included) and the lifecycle messages on /as/mqtt/status/{pk}/{dn} (clean
disconnect, SIGKILLed device, keepalive timeout of a frozen device, clientId
takeover; replayed to a late subscriber; published while a session may
hold a subscription) and gathered on /as/mqtt/statuses.

Each test starts its own /usr/sbin/mosquitto on a free 127.0.0.1 port with a
generated config in a temporary directory, against a SQLite database the test
creates from schema/migrations/0001_init.sql in WAL mode (and keeps open as
the "emulator" writer). Run from the repository root with Debian's
python3-paho-mqtt 1.6:

    /usr/bin/python3 -m unittest tests/integration/test_broker_plugin.py

HAAS_AUTH_SO selects the plugin (default build/haas_auth.so). When the plugin
is built with -fsanitize=address,undefined, the test LD_PRELOADs libasan into
mosquitto and fails any test whose broker log shows a sanitizer report.
"""

import hashlib
import hmac
import json
import os
import queue
import re
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import string
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import glob
from collections import namedtuple

import paho.mqtt.client as mqtt

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SO = os.path.abspath(os.environ.get("HAAS_AUTH_SO", os.path.join(ROOT, "build", "haas_auth.so")))
MIGRATIONS = sorted(glob.glob(os.path.join(ROOT, "schema", "migrations", "[0-9]*_*.sql")))
MOSQUITTO = "/usr/sbin/mosquitto"
PYTHON = "/usr/bin/python3"

TIMEOUT = 10.0  # seconds for any awaited condition
NOT_AUTHORIZED = 5  # MQTT 3.1.1 CONNACK return code
SUB_FAILURE = 0x80

SERVICE_USER = "haas-emu-test"
SERVICE_PASS = "s3rvice-P@ss-" + secrets.token_hex(8)

PK = "a14Xib5kdYd"
PK2 = "b25Yjc6leZe"
VEC_DN = "light1983432"  # the test vector of docs/protocol.md section 2
VEC_DS = "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"


def random_secret():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


# device name -> (product key, secret, enabled)
DEVICES = {
    ("a14Xib5kdYd", "light1983432"): (VEC_DS, 1),
    ("a14Xib5kdYd", "devA0001"): (random_secret(), 1),
    ("a14Xib5kdYd", "devB0002"): (random_secret(), 1),
    ("a14Xib5kdYd", "devOff03"): (random_secret(), 0),
    ("a14Xib5kdYd", "barrier9"): (random_secret(), 1),
    ("b25Yjc6leZe", "devA0001"): (random_secret(), 1),  # same dn, other product
}
DEV_A = (PK, "devA0001")
DEV_B = (PK, "devB0002")
DEV_OFF = (PK, "devOff03")
DEV_BARRIER = (PK, "barrier9")
DEV_A_OTHER_PRODUCT = (PK2, "devA0001")


def secret_of(dev):
    return DEVICES[dev][0]


def sign(ds, cid, dn, pk, ts=None, method="hmacsha1"):
    """The Aliyun device password (lower-case hex HMAC)."""
    content = "clientId%sdeviceName%sproductKey%s" % (cid, dn, pk)
    if ts is not None:
        content += "timestamp%s" % ts
    digest = {"hmacsha1": hashlib.sha1, "hmacsha256": hashlib.sha256,
              "hmacmd5": hashlib.md5, "hmacsha512": hashlib.sha512}[method.lower()]
    return hmac.new(ds.encode(), content.encode(), digest).hexdigest()


def client_id(ident, items):
    return "%s|%s|" % (ident, ",".join(items))


def creds(dev, ident=None, ts="1700000000000", method="hmacsha1", extra=()):
    """(clientId, username, password) of a device in the generic form."""
    pk, dn = dev
    ident = ident or ("%s.%s" % (pk, dn))
    items = ["securemode=3", "signmethod=%s" % method]
    if ts is not None:
        items.append("timestamp=%s" % ts)
    items.extend(extra)
    return (client_id(ident, items), "%s&%s" % (dn, pk),
            sign(secret_of(dev), ident, dn, pk, ts, method))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def asan_runtime(so_path):
    """Path of the libasan the plugin links against, or None."""
    try:
        out = subprocess.run(["ldd", so_path], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            path = line.split("=>")[1].split("(")[0].strip()
            if path:
                return path
    return None


def make_db(path, devices=None):
    """Creates the emulator's database; returns the open writer connection."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    for path in MIGRATIONS:  # the schema haas-emu makes, as db.c applies it
        with open(path, encoding="utf-8") as f:
            con.executescript(f.read())
    con.execute("PRAGMA user_version=%d" % int(os.path.basename(MIGRATIONS[-1]).split("_")[0]))
    now = int(time.time())
    con.execute("BEGIN")
    for pk in sorted({pk for pk, _ in (devices or DEVICES)}):
        con.execute("INSERT INTO products(product_key, name, created_at) VALUES (?,?,?)",
                    (pk, "product " + pk, now))
    for (pk, dn), (ds, enabled) in (devices or DEVICES).items():
        con.execute("INSERT INTO devices(product_key, device_name, device_secret, enabled,"
                    " created_at) VALUES (?,?,?,?,?)", (pk, dn, ds, enabled, now))
    con.execute("COMMIT")
    return con


Msg = namedtuple("Msg", "topic payload qos retain")

# The plugin's log lines when the per-device lifecycle messages start or stop.
PUBLISHED = "per-device lifecycle messages published"
NOT_PUBLISHED = "per-device lifecycle messages no longer published"


def connect_packet(cid, username, password, keepalive=30):
    """An MQTT 3.1.1 CONNECT (clean session) with username and password."""
    def string_field(text):
        data = text.encode()
        return struct.pack("!H", len(data)) + data
    body = string_field("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", keepalive)
    body += string_field(cid) + string_field(username) + string_field(password)
    length, n = b"", len(body)
    while True:
        n, digit = n // 128, n % 128
        length += bytes([digit | (0x80 if n else 0)])
        if not n:
            return b"\x10" + length + body


class Broker:
    """A mosquitto process loading the plugin, on a free loopback port."""

    def __init__(self, tmpdir, db_path, name="broker"):
        self.port = free_port()
        self.log_path = os.path.join(tmpdir, name + ".log")
        conf = os.path.join(tmpdir, name + ".conf")
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            "persistence false",
            "listener %d 127.0.0.1" % self.port,
            "plugin %s" % SO,
            "plugin_opt_db_path %s" % db_path,
            "plugin_opt_service_username %s" % SERVICE_USER,
            "plugin_opt_service_password %s" % SERVICE_PASS,
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # keep access to the 0700 temp dir
        with open(conf, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        env = dict(os.environ)
        asan = asan_runtime(SO)
        if asan:
            env["LD_PRELOAD"] = asan
            env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("mosquitto exited (%s):\n%s"
                                     % (self.proc.returncode, self.read_log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("mosquitto not listening:\n" + self.read_log())
                time.sleep(0.02)  # polling for the listener, bounded by deadline

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.read_log()


class Client:
    """A paho client with synchronous helpers and a queue of received messages."""

    def __init__(self, port, cid, username, password, keepalive=30, clean_session=True):
        self.port = port
        self.keepalive = keepalive
        self.connack = queue.Queue()
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.seen = []
        self.disconnected = threading.Event()
        self.c = mqtt.Client(client_id=cid, clean_session=clean_session, protocol=mqtt.MQTTv311,
                             reconnect_on_failure=False)
        if username is not None:
            self.c.username_pw_set(username, password)
        self.c.on_connect = lambda c, u, flags, rc: self.connack.put(rc)
        self.c.on_message = lambda c, u, m: self.messages.put(
            Msg(m.topic, m.payload, m.qos, bool(m.retain)))
        self.c.on_subscribe = lambda c, u, mid, granted: self.subacks.put((mid, list(granted)))
        self.c.on_disconnect = lambda c, u, rc: self.disconnected.set()
        self.started = False

    def connect(self):
        """Returns the CONNACK return code."""
        self.c.connect("127.0.0.1", self.port, self.keepalive)
        self.c.loop_start()
        self.started = True
        try:
            return self.connack.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no CONNACK within %ss" % TIMEOUT) from None

    def subscribe(self, filters, qos=1):
        """Subscribes in one SUBSCRIBE packet; returns the granted list."""
        rc, mid = self.c.subscribe([(f, qos) for f in filters])
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                got_mid, granted = self.subacks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no SUBACK") from None
            if got_mid == mid:
                return granted

    def publish(self, topic, payload=b"x", qos=1):
        info = self.c.publish(topic, payload, qos)
        info.wait_for_publish(timeout=TIMEOUT)
        assert info.is_published(), "PUBACK for %s not received" % topic

    def wait_for(self, pred, what="message"):
        """Returns the first new message satisfying pred (all are kept in seen)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for %s; seen: %r" % (what, self.seen))
            try:
                m = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(m)
            if pred(m):
                return m

    def close(self):
        if self.started:
            self.c.disconnect()
            self.c.loop_stop()
            self.started = False


def status_of(msg):
    return json.loads(msg.payload.decode("utf-8"))


class BrokerPluginTest(unittest.TestCase):

    def setUp(self):
        self.assertTrue(os.path.exists(SO), "plugin not built: %s" % SO)
        self.tmpdir = tempfile.mkdtemp(prefix="haas_auth_test_")
        self.addCleanup(shutil.rmtree, self.tmpdir, True)
        self.db_path = os.path.join(self.tmpdir, "haas.db")
        self.db = make_db(self.db_path)
        self.addCleanup(self.db.close)
        self.brokers = []
        self.clients = []
        self.children = []
        # also runs when setUp fails half-way (tearDown does not then)
        self.addCleanup(self.shut_down)
        self.broker = self.start_broker(self.db_path)
        self.watch = self.client(SERVICE_USER, SERVICE_PASS, cid="watcher")
        self.assertEqual(self.watch.connect(), 0)
        self.assertEqual(self.watch.subscribe(["/as/mqtt/status/#"]), [1])

    def tearDown(self):
        self.shut_down()

    def shut_down(self):
        """Kills children, closes clients, stops brokers; fails on sanitizer reports."""
        children, self.children = self.children, []
        clients, self.clients = self.clients, []
        brokers, self.brokers = self.brokers, []
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
        for c in clients:
            c.close()
        reports = []
        for b in brokers:
            log = b.stop()
            if any(m in log for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")):
                reports.append(log)
        if reports:
            self.fail("sanitizer report in broker log:\n" + "\n".join(reports))

    # -- helpers ----------------------------------------------------------

    def start_broker(self, db_path, name="broker"):
        b = Broker(self.tmpdir, db_path, name)
        self.brokers.append(b)
        return b

    def client(self, username, password, cid=None, keepalive=30, broker=None, clean_session=True):
        c = Client((broker or self.broker).port, cid or ("svc-" + secrets.token_hex(4)),
                   username, password, keepalive, clean_session)
        self.clients.append(c)
        return c

    def device(self, dev, **kw):
        cid, user, pw = creds(dev, **kw)
        return self.client(user, pw, cid=cid)

    def connect_device(self, dev, **kw):
        c = self.device(dev, **kw)
        self.assertEqual(c.connect(), 0, "device %s&%s refused" % (dev[1], dev[0]))
        return c

    def wait_status(self, dev, status):
        topic = "/as/mqtt/status/%s/%s" % dev
        m = self.watch.wait_for(lambda m: m.topic == topic and status_of(m)["status"] == status,
                                "%s %s" % (status, topic))
        return m

    def wait_log(self, text, count=1):
        """Waits until the broker's log holds `text` at least `count` times."""
        deadline = time.monotonic() + TIMEOUT
        while self.broker.read_log().count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError("%r not %d times in the broker's log:\n%s"
                                     % (text, count, self.broker.read_log()))
            time.sleep(0.02)  # polling the log file, bounded by deadline

    def statuses_seen(self):
        return [(m.topic, status_of(m)["status"]) for m in self.watch.seen]

    def assert_connect_refused(self, cid, username, password, broker=None):
        c = self.client(username, password, cid=cid, broker=broker)
        self.assertEqual(c.connect(), NOT_AUTHORIZED,
                         "expected refusal of clientId=%r username=%r" % (cid, username))

    def assert_only_secret(self, dev, ident, refused, accepted):
        """A login of dev signed with secret `refused` is refused, one with
        `accepted` accepted (then closed)."""
        pk, dn = dev
        cid, user = client_id(ident, ["securemode=3", "signmethod=hmacsha1"]), "%s&%s" % (dn, pk)
        self.assert_connect_refused(cid, user, sign(refused, ident, dn, pk))
        c = self.client(user, sign(accepted, ident, dn, pk), cid=cid)
        self.assertEqual(c.connect(), 0, "the login with the database's secret")
        c.close()

    # -- authentication ---------------------------------------------------

    def test_plugin_allocates_with_libc_only(self):
        """lsan-mosquitto.supp hides leaks whose stack ends in mosquitto's
        own allocator: the plugin must never allocate through it."""
        folders = [os.path.join(ROOT, "server", d) for d in ("plugin", "protocol")]  # both are in the plugin
        for path in sorted(os.path.join(d, n) for d in folders for n in os.listdir(d)):
            with open(path) as f:
                found = re.findall(r"\bmosquitto_(?:malloc|calloc|realloc|strdup)\b", f.read())
            self.assertEqual(found, [], path)

    def test_accepts_link_sdk_c_clientid(self):
        pk, dn = DEV_A
        ident = "%s.%s" % (pk, dn)
        ts = "2524608000000"
        cid = "%s|timestamp=%s,_ss=1,_v=sdk-c-4.0.0,securemode=3,signmethod=hmacsha256,ext=3,|" % (
            ident, ts)
        c = self.client("%s&%s" % (dn, pk), sign(secret_of(DEV_A), ident, dn, pk, ts, "hmacsha256"),
                        cid=cid)
        self.assertEqual(c.connect(), 0)
        self.wait_status(DEV_A, "online")

    def test_accepts_nodejs_clientid(self):
        pk, dn = DEV_B
        ident = "%s&%s" % (pk, dn)
        ts = "1700000000000"
        cid = "%s|securemode=3,signmethod=hmacsha1,timestamp=%s,lan=NODEJS,_v=1.2.8|" % (ident, ts)
        c = self.client("%s&%s" % (dn, pk), sign(secret_of(DEV_B), ident, dn, pk, ts), cid=cid)
        self.assertEqual(c.connect(), 0)
        self.wait_status(DEV_B, "online")

    def test_accepts_generic_clientid_with_protocol_test_vector(self):
        c = self.client("light1983432&a14Xib5kdYd", "b2488041f64f425016b467ee1c94959ebd592ad1",
                        cid="SN1928339|securemode=3,signmethod=hmacsha1,timestamp=1539421321846|")
        self.assertEqual(c.connect(), 0)
        self.wait_status((PK, VEC_DN), "online")

    def test_each_sign_method(self):
        cases = [
            ("hmacsha1", "1", []),
            ("hmacsha256", "2", []),
            ("hmacmd5", "3", []),
            ("HmacSHA256", "4", []),   # case-insensitive
            ("HMACMD5", None, []),      # no timestamp in clientId
        ]
        for method, ts, extra in cases:
            with self.subTest(method=method, ts=ts):
                c = self.connect_device(DEV_A, ident="m-%s-%s" % (method, ts), ts=ts,
                                        method=method, extra=extra)
                c.close()
        # the password's hex digits in upper case (Link SDK C 4.x) or mixed
        for method in ("hmacsha1", "hmacsha256", "hmacmd5"):
            with self.subTest(upper=method):
                cid, user, pw = creds(DEV_A, ident="up-" + method, method=method)
                for variant in (pw.upper(), pw[:8].upper() + pw[8:]):
                    c = self.client(user, variant, cid=cid)
                    self.assertEqual(c.connect(), 0)
                    c.close()
        # signmethod absent: hmacsha1 is the default
        pk, dn = DEV_A
        cid = "nosig|securemode=3,timestamp=42|"
        c = self.client("%s&%s" % (dn, pk), sign(secret_of(DEV_A), "nosig", dn, pk, "42"), cid=cid)
        self.assertEqual(c.connect(), 0)
        c.close()
        cid = "nosig2||"
        c = self.client("%s&%s" % (dn, pk), sign(secret_of(DEV_A), "nosig2", dn, pk), cid=cid)
        self.assertEqual(c.connect(), 0)

    def test_rejections_and_no_lifecycle_for_them(self):
        pk, dn = DEV_A
        user = "%s&%s" % (dn, pk)
        ds = secret_of(DEV_A)
        good_cid, _, good_pw = creds(DEV_A, ident="rej")
        self.assertNotEqual(good_pw, good_pw.upper())
        cases = {
            "unknown device": (good_cid, "nobody99&%s" % pk,
                               sign(ds, "rej", "nobody99", pk, "1700000000000")),
            "unknown product": (good_cid, "%s&zzzzzzzzzzz" % dn,
                                sign(ds, "rej", dn, "zzzzzzzzzzz", "1700000000000")),
            "disabled device": creds(DEV_OFF, ident="rej"),
            "wrong password": (good_cid, user, good_pw[:-1] + ("0" if good_pw[-1] != "0" else "1")),
            "password of other device": (good_cid, user,
                                         sign(secret_of(DEV_B), "rej", dn, pk, "1700000000000")),
            "other method than declared": (good_cid, user,
                                           sign(ds, "rej", dn, pk, "1700000000000", "hmacsha256")),
            "timestamp not signed": (good_cid, user, sign(ds, "rej", dn, pk, None)),
            "unknown sign method": (
                "rej|signmethod=hmacsha512,timestamp=1|", user, sign(ds, "rej", dn, pk, "1", "hmacsha512")),
            "empty sign method": ("rej|signmethod=,timestamp=1|", user, sign(ds, "rej", dn, pk, "1")),
            "missing password": (good_cid, user, None),
            "empty password": (good_cid, user, ""),
            "username without &": (good_cid, dn + pk, good_pw),
            "username reversed": (good_cid, "%s&%s" % (pk, dn), good_pw),
            "username two &": (good_cid, user + "&x", good_pw),
            "device name too short": ("rej|timestamp=1|", "abc&%s" % pk, sign(ds, "rej", "abc", pk, "1")),
            "device name overlong": ("rej|timestamp=1|", "d" * 33 + "&" + pk,
                                     sign(ds, "rej", "d" * 33, pk, "1")),
            "username overlong": (good_cid, "d" * 5000 + "&" + pk, good_pw),
            "bad char in device name": ("rej|timestamp=1|", "dev/A0001&%s" % pk,
                                        sign(ds, "rej", "dev/A0001", pk, "1")),
            "wildcard in device name": ("rej|timestamp=1|", "dev+#&%s" % pk,
                                        sign(ds, "rej", "dev+#", pk, "1")),
            "clientId without |": ("rej", user, sign(ds, "rej", dn, pk)),
            "clientId without closing |": ("rej|timestamp=1", user, sign(ds, "rej", dn, pk, "1")),
            "clientId text after |": ("rej|timestamp=1|x", user, sign(ds, "rej", dn, pk, "1")),
            "clientId empty id": ("|timestamp=1|", user, sign(ds, "", dn, pk, "1")),
            "clientId space in id": ("r j|timestamp=1|", user, sign(ds, "r j", dn, pk, "1")),
            "clientId overlong id": ("i" * 200 + "|timestamp=1|", user, sign(ds, "i" * 200, dn, pk, "1")),
            "clientId overlong": ("rej|timestamp=1," + "a=b," * 300 + "|", user,
                                  sign(ds, "rej", dn, pk, "1")),
            "clientId overlong timestamp": ("rej|timestamp=" + "1" * 65 + "|", user,
                                            sign(ds, "rej", dn, pk, "1" * 65)),
            "clientId duplicate timestamp": ("rej|timestamp=1,timestamp=2|", user,
                                             sign(ds, "rej", dn, pk, "1")),
            "no username": (good_cid, None, None),
            "service user wrong password": ("svc-x", SERVICE_USER, SERVICE_PASS + "x"),
            "service user no password": ("svc-y", SERVICE_USER, None),
            "service password as device": (good_cid, user, SERVICE_PASS),
        }
        for name, (cid, username, password) in cases.items():
            with self.subTest(name):
                self.assert_connect_refused(cid, username, password)
        # Barrier: a good device's "online" arrives after anything the refused
        # clients could have caused; nothing else may have been announced.
        self.connect_device(DEV_BARRIER)
        self.wait_status(DEV_BARRIER, "online")
        self.assertEqual(self.statuses_seen(),
                         [("/as/mqtt/status/%s/%s" % DEV_BARRIER, "online")])

    def test_device_disabled_while_running(self):
        c = self.connect_device(DEV_A, ident="d1")
        c.close()
        self.db.execute("UPDATE devices SET enabled=0 WHERE product_key=? AND device_name=?", DEV_A)
        cid, user, pw = creds(DEV_A, ident="d2")
        self.assert_connect_refused(cid, user, pw)
        self.db.execute("UPDATE devices SET enabled=1 WHERE product_key=? AND device_name=?", DEV_A)
        self.connect_device(DEV_A, ident="d3")
        # a deleted device is refused too
        self.db.execute("DELETE FROM devices WHERE product_key=? AND device_name=?", DEV_B)
        cid, user, pw = creds(DEV_B, ident="d4")
        self.assert_connect_refused(cid, user, pw)

    def test_secret_changed_or_device_made_again_while_running(self):
        """Kept secrets (secret_cache.h) never outlive a change in the database."""
        pk, dn = DEV_A
        old = secret_of(DEV_A)
        self.connect_device(DEV_A, ident="s1").close()  # its secret is kept now
        new = random_secret()
        self.db.execute("UPDATE devices SET device_secret=? WHERE product_key=? AND device_name=?", (new, pk, dn))
        self.assert_only_secret(DEV_A, "s2", old, new)
        # deleted and made again with another secret, between two logins
        again = random_secret()
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM devices WHERE product_key=? AND device_name=?", (pk, dn))
        self.db.execute("INSERT INTO devices(product_key, device_name, device_secret, created_at) "
                        "VALUES (?, ?, ?, 1)", (pk, dn, again))
        self.db.execute("COMMIT")
        self.assert_only_secret(DEV_A, "s3", new, again)
        # replaced in one statement (REPLACE fires no DELETE trigger)
        replaced = random_secret()
        self.db.execute("INSERT OR REPLACE INTO devices(product_key, device_name, device_secret, created_at) "
                        "VALUES (?, ?, ?, 1)", (pk, dn, replaced))
        self.assert_only_secret(DEV_A, "s4", again, replaced)

    def test_a_login_again_uses_the_kept_secret(self):
        """The kept secret is what a second login is checked against, until
        the number of migration 0018 moves (here a change whose number is
        put back shows which secret was used)."""
        pk, dn = DEV_B
        self.connect_device(DEV_B, ident="k1").close()
        other = random_secret()
        self.db.execute("BEGIN")
        self.db.execute("UPDATE devices SET device_secret=? WHERE product_key=? AND device_name=?", (other, pk, dn))
        self.db.execute("UPDATE device_auth_version SET n = n - 1")  # as if it had not moved
        self.db.execute("COMMIT")
        self.connect_device(DEV_B, ident="k2").close()  # checked against the kept secret
        self.db.execute("UPDATE device_auth_version SET n = n + 1")
        self.assert_only_secret(DEV_B, "k3", secret_of(DEV_B), other)  # looked up again

    def test_nothing_is_kept_without_every_trigger(self):
        """A schema that lost a trigger of 0018 (a table made again without
        it) is looked up at every login: the number alone is not trusted."""
        pk, dn = DEV_B
        self.db.execute("DROP TRIGGER device_auth_removed")
        self.connect_device(DEV_B, ident="t1").close()
        self.db.execute("DELETE FROM devices WHERE product_key=? AND device_name=?", (pk, dn))  # the number stays
        cid, user, pw = creds(DEV_B, ident="t2")
        self.assert_connect_refused(cid, user, pw)

    def test_open_write_transaction_does_not_block_auth(self):
        # The emulator holds a write transaction (WAL): the plugin's read-only
        # connection still answers, from the last committed state.
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("UPDATE devices SET enabled=0 WHERE product_key=? AND device_name=?", DEV_A)
        t0 = time.monotonic()
        self.connect_device(DEV_A, ident="w1")
        self.assertLess(time.monotonic() - t0, 0.9, "auth waited on the writer's lock")
        self.db.execute("COMMIT")
        cid, user, pw = creds(DEV_A, ident="w2")
        self.assert_connect_refused(cid, user, pw)

    def test_database_created_after_broker_start(self):
        late = os.path.join(self.tmpdir, "late.db")
        b = self.start_broker(late, name="late")
        cid, user, pw = creds(DEV_A, ident="late1")
        self.assert_connect_refused(cid, user, pw, broker=b)
        svc = self.client(SERVICE_USER, SERVICE_PASS, broker=b)
        self.assertEqual(svc.connect(), 0, "service account needs no database")
        con = make_db(late)
        self.addCleanup(con.close)
        c = self.client(user, pw, cid=cid, broker=b)
        self.assertEqual(c.connect(), 0)

    def test_service_account_may_do_anything(self):
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        self.assertEqual(svc.subscribe(["#", "/sys/+/+/#"]), [1, 1])
        other = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(other.connect(), 0)
        for topic in ("/sys/%s/%s/thing/service/hli_service_upgrade" % DEV_A,
                      "/ota/device/upgrade/%s/%s" % DEV_B, "anything/at/all"):
            other.publish(topic, b"payload")
            m = svc.wait_for(lambda m, t=topic: m.topic == t, topic)
            self.assertEqual(m.payload, b"payload")

    # -- ACL ---------------------------------------------------------------

    def own_sub_filters(self, dev):
        pk, dn = dev
        return ["/sys/%s/%s/#" % dev, "/sys/%s/%s/thing/service/+" % dev,
                "/sys/%s/%s/rrpc/request/+" % dev,
                "/ota/device/upgrade/%s/%s" % dev, "/shadow/get/%s/%s" % dev,
                "/ext/session/%s/%s/#" % dev, "/ext/ntp/%s/%s/#" % dev,
                "/ext/rrpc/+/sys/%s/%s/#" % dev, "/%s/%s/user/#" % (pk, dn)]

    def test_subscribe_acl(self):
        a = self.connect_device(DEV_A)
        b = self.connect_device(DEV_B)
        self.assertEqual(a.subscribe(self.own_sub_filters(DEV_A)), [1] * 9)
        self.assertEqual(b.subscribe(self.own_sub_filters(DEV_B)), [1] * 9)
        pk, dn = DEV_A
        denied = [
            "#", "+", "/#", "/+/#", "+/#", "/sys/#", "/sys/+/+/#", "/sys/%s/#" % pk,
            "/sys/%s/+/#" % pk, "/sys/%s/+/thing/service/+" % pk, "/sys/+/%s/#" % dn,
            "/sys/%s/%s/#" % DEV_B, "/sys/%s/%s/#" % DEV_A_OTHER_PRODUCT,
            "/ota/device/upgrade/%s/+" % pk, "/ota/device/upgrade/%s/%s" % DEV_B,
            "/ota/device/+/%s/%s" % DEV_A, "/ota/device/inform/%s/%s" % DEV_A,
            "/shadow/update/%s/%s" % DEV_A, "/ext/+/%s/%s/#" % DEV_A,
            "/ext/rrpc/+/sys/%s/+/#" % pk, "/+/+/user/#", "/%s/%s/user/#" % DEV_B,
            "/as/mqtt/status/#", "/as/mqtt/statuses", "/as/mqtt/+", "$SYS/#",
        ]
        self.assertEqual(a.subscribe(denied), [SUB_FAILURE] * len(denied))

        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        foreign = ["/sys/%s/%s/thing/service/x" % DEV_B,
                   "/sys/%s/%s/thing/service/x" % DEV_A_OTHER_PRODUCT,
                   "/ota/device/upgrade/%s/%s" % DEV_B, "/shadow/get/%s/%s" % DEV_B,
                   "/ext/rrpc/1/sys/%s/%s/x" % DEV_B, "/%s/%s/user/get" % DEV_B,
                   "/ota/device/inform/%s/%s" % DEV_A, "/other/topic"]
        for topic in foreign:
            svc.publish(topic)
        # B sees its own messages: the publishes did go out
        for topic in foreign[:1] + foreign[2:6]:
            b.wait_for(lambda m, t=topic: m.topic == t, topic)
        # A's own topics reach A; the barrier proves nothing foreign came before
        own = ["/sys/%s/%s/thing/service/hli_service_upgrade" % DEV_A,
               "/ota/device/upgrade/%s/%s" % DEV_A, "/shadow/get/%s/%s" % DEV_A,
               "/ext/rrpc/7/sys/%s/%s/thing/service/y" % DEV_A, "/%s/%s/user/get" % DEV_A]
        for topic in own:
            svc.publish(topic)
        for topic in own:
            a.wait_for(lambda m, t=topic: m.topic == t, topic)
        self.assertEqual(sorted(m.topic for m in a.seen), sorted(own))

    def test_publish_acl(self):
        a = self.connect_device(DEV_A)
        b = self.connect_device(DEV_B)
        self.assertEqual(b.subscribe(self.own_sub_filters(DEV_B)), [1] * 9)
        spy = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(spy.connect(), 0)
        self.assertEqual(spy.subscribe(["#"]), [1])
        pk, dn = DEV_A
        allowed = ["/sys/%s/%s/thing/event/property/post" % DEV_A,
                   "/sys/%s/%s/thing/event/hli_event/post" % DEV_A,
                   "/ota/device/inform/%s/%s" % DEV_A, "/ota/device/progress/%s/%s" % DEV_A,
                   "/ota/device/request/%s/%s" % DEV_A, "/shadow/update/%s/%s" % DEV_A,
                   "/ext/session/%s/%s/combine/login" % DEV_A, "/ext/ntp/%s/%s/request" % DEV_A,
                   "/ext/rrpc/9/sys/%s/%s/thing/service/x_reply" % DEV_A,
                   "/%s/%s/user/update" % DEV_A]
        denied = ["/sys/%s/%s/thing/service/x" % DEV_B,
                  "/sys/%s/%s/thing/event/property/post" % DEV_A_OTHER_PRODUCT,
                  "/ota/device/upgrade/%s/%s" % DEV_A, "/ota/device/upgrade/%s/%s" % DEV_B,
                  "/shadow/get/%s/%s" % DEV_A, "/shadow/get/%s/%s" % DEV_B,
                  "/ota/device/inform/%s/%s" % DEV_B, "/ext/rrpc/1/sys/%s/%s/x" % DEV_B,
                  "/%s/%s/user/get" % DEV_B, "/as/mqtt/status/%s/%s" % DEV_A,
                  "/as/mqtt/status/%s/%s" % DEV_B, "/as/mqtt/statuses", "other/topic", "/sys/%s" % pk]
        for topic in denied + allowed:
            a.publish(topic, b"from-A")
        for topic in allowed:
            spy.wait_for(lambda m, t=topic: m.topic == t, topic)
        # the service then reaches B; B got nothing from A before that
        barrier = "/sys/%s/%s/thing/service/barrier" % DEV_B
        spy.publish(barrier)
        b.wait_for(lambda m: m.topic == barrier, barrier)
        self.assertEqual([m.topic for m in b.seen], [barrier])
        from_a = [m.topic for m in spy.seen if m.payload == b"from-A"]
        self.assertEqual(sorted(from_a), sorted(allowed))  # none of the denied ones
        # A could not spoof lifecycle messages
        self.assertTrue(all(m.payload.startswith(b"{") for m in self.watch.seen))

    # -- automatic subscription (`_ss=1`, Link SDK C) --------------------------

    def auto_topics(self, dev):
        """Downstream topics of the platform's automatic-subscription list."""
        return ["/sys/%s/%s/thing/service/hli_service_upgrade_push" % dev,
                "/sys/%s/%s/thing/service/property/set" % dev,
                "/sys/%s/%s/thing/event/property/post_reply" % dev,
                "/sys/%s/%s/thing/config/push" % dev,
                "/sys/%s/%s/rrpc/request/42" % dev,
                "/ota/device/upgrade/%s/%s" % dev,
                "/ext/ntp/%s/%s/response" % dev,
                "/shadow/get/%s/%s" % dev]

    def test_auto_subscription_delivers_only_own_topics(self):
        ss = ("_ss=1",)
        a = self.connect_device(DEV_A, extra=ss)
        b = self.connect_device(DEV_B, extra=ss)
        twin = self.connect_device(DEV_A_OTHER_PRODUCT, extra=ss)
        plain = self.connect_device(DEV_BARRIER)  # no _ss: plain MQTT
        # B tries every wildcard it can think of: refused, and no side door
        wild = ["#", "/sys/+/+/#", "/sys/%s/+/thing/service/+" % PK, "/ota/device/upgrade/+/+",
                "/shadow/get/%s/+" % PK, "/as/mqtt/refused"]
        self.assertEqual(b.subscribe(wild), [SUB_FAILURE] * len(wild))
        # and publishing on A's downstream topics is refused (nothing reaches A)
        for topic in self.auto_topics(DEV_A):
            b.publish(topic, b"forged-by-B")
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        for dev in (DEV_A, DEV_B, DEV_A_OTHER_PRODUCT, DEV_BARRIER):
            for topic in self.auto_topics(dev):
                svc.publish(topic, ("for %s/%s" % dev).encode())
        # uplinks and custom topics are never auto-delivered
        svc.publish("/sys/%s/%s/thing/event/property/post" % DEV_A, b"uplink")
        svc.publish("/%s/%s/user/get" % DEV_A, b"custom")
        for dev, c in ((DEV_A, a), (DEV_B, b), (DEV_A_OTHER_PRODUCT, twin)):
            last = self.auto_topics(dev)[-1]
            c.wait_for(lambda m, t=last: m.topic == t, last)
            self.assertEqual([m.topic for m in c.seen], self.auto_topics(dev), "%s/%s" % dev)
            self.assertTrue(all(m.payload == ("for %s/%s" % dev).encode() for m in c.seen))
        # the device without _ss=1 got nothing: a barrier of its own proves it
        self.assertEqual(plain.subscribe(["/sys/%s/%s/thing/service/+" % DEV_BARRIER]), [1])
        barrier = "/sys/%s/%s/thing/service/barrier" % DEV_BARRIER
        svc.publish(barrier)
        plain.wait_for(lambda m: m.topic == barrier, barrier)
        self.assertEqual([m.topic for m in plain.seen], [barrier])

    def test_refusals_are_announced_to_the_service_only(self):
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        self.assertEqual(svc.subscribe(["/as/mqtt/refused"]), [1])
        cid, user, _ = creds(DEV_A)
        bad = self.client(user, "0" * 40, cid=cid)
        self.assertEqual(bad.connect(), 5)
        m = svc.wait_for(lambda m: m.topic == "/as/mqtt/refused", "refusal notice")
        notice = json.loads(m.payload)
        self.assertEqual((notice["code"], notice["productKey"], notice["deviceName"], notice["clientId"],
                          notice["clientIp"]), ("WrongPassword", DEV_A[0], DEV_A[1], cid, "127.0.0.1"))
        self.assertEqual(m.retain, False)
        ghost = self.client("nobody99&%s" % PK, "0" * 40, cid="x|securemode=3|")
        self.assertEqual(ghost.connect(), 5)
        m = svc.wait_for(lambda m: json.loads(m.payload)["code"] == "UnknownDevice", "unknown device notice")
        self.assertEqual(json.loads(m.payload)["deviceName"], "nobody99")
        junk = self.client("no-ampersand", "x", cid="junk")
        self.assertEqual(junk.connect(), 5)
        m = svc.wait_for(lambda m: json.loads(m.payload)["code"] == "MalformedUsername", "malformed notice")
        self.assertEqual(json.loads(m.payload)["productKey"], "")

    # -- sessions: takeover, kick, retained --------------------------------

    def test_client_id_of_another_device_is_refused(self):
        """B signs A's exact clientId with its own secret: refused, A stays."""
        cid, _, _ = creds(DEV_A)
        a = self.connect_device(DEV_A)
        pk, dn = DEV_B
        b = self.client("%s&%s" % (dn, pk), sign(secret_of(DEV_B), "%s.%s" % DEV_A, dn, pk, "1700000000000"),
                        cid=cid)
        self.assertEqual(b.connect(), 5)
        self.assertFalse(a.disconnected.wait(0.5))  # a bounded look: A was not dropped
        barrier = "/sys/%s/%s/thing/service/still-here" % DEV_A
        self.assertEqual(a.subscribe([barrier]), [1])
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        svc.publish(barrier)
        a.wait_for(lambda m: m.topic == barrier, "A still connected")
        # the same device may take its own session over, as on the cloud
        again = self.device(DEV_A)
        self.assertEqual(again.connect(), 0)
        self.assertTrue(a.disconnected.wait(TIMEOUT))

    def test_service_kicks_a_device(self):
        a = self.connect_device(DEV_A)
        b = self.connect_device(DEV_B)
        # a device cannot ask for it (ACL), not even for itself
        b.publish("/as/mqtt/kick/%s/%s" % DEV_A)
        b.publish("/as/mqtt/kick/%s/%s" % DEV_B)
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        svc.publish("/as/mqtt/kick/%s/%s" % DEV_A)
        self.assertTrue(a.disconnected.wait(TIMEOUT))
        offline = self.watch.wait_for(lambda m: m.topic == "/as/mqtt/status/%s/%s" % DEV_A and
                                      status_of(m)["status"] == "offline", "offline after kick")
        self.assertTrue(offline)
        self.assertFalse(b.disconnected.is_set())

    def test_device_messages_are_never_retained(self):
        a = self.connect_device(DEV_A)
        own = ["/%s/%s/user/state" % DEV_A, "/sys/%s/%s/thing/service/hli_service_upgrade_push" % DEV_A]
        for topic in own:
            info = a.c.publish(topic, b"fake", 1, retain=True)
            info.wait_for_publish(timeout=TIMEOUT)
        # a later subscriber (the device itself, reconnected) gets nothing replayed
        a.close()
        again = self.connect_device(DEV_A)
        barrier = "/sys/%s/%s/thing/service/barrier" % DEV_A
        self.assertEqual(again.subscribe(own + [barrier]), [1, 1, 1])
        svc = self.client(SERVICE_USER, SERVICE_PASS)
        self.assertEqual(svc.connect(), 0)
        svc.publish(barrier)
        again.wait_for(lambda m: m.topic == barrier, "barrier")
        self.assertEqual([m.topic for m in again.seen], [barrier])
        # the service's own retained messages still work
        svc.c.publish("/%s/%s/user/from-service" % DEV_A, b"kept", 1, retain=True).wait_for_publish(TIMEOUT)
        self.assertEqual(again.subscribe(["/%s/%s/user/from-service" % DEV_A]), [1])
        m = again.wait_for(lambda m: m.topic.endswith("from-service"), "retained from the service")
        self.assertTrue(m.retain)

    # -- lifecycle -----------------------------------------------------------

    def check_status(self, msg, dev, status, t0, t1):
        self.assertEqual(msg.topic, "/as/mqtt/status/%s/%s" % dev)
        self.assertEqual(msg.qos, 1)
        self.assertFalse(msg.retain)
        s = status_of(msg)
        self.assertEqual(set(s), {"status", "productKey", "deviceName", "time", "clientIp",
                                  "lastTime"})
        self.assertEqual(s["status"], status)
        self.assertEqual(s["productKey"], dev[0])
        self.assertEqual(s["deviceName"], dev[1])
        self.assertEqual(s["clientIp"], "127.0.0.1")
        for key in ("time", "lastTime"):
            self.assertIsInstance(s[key], int)
            self.assertGreaterEqual(s[key], int(t0 * 1000) - 2000)
            self.assertLessEqual(s[key], int(t1 * 1000) + 2000)
        self.assertGreaterEqual(s["lastTime"], s["time"])
        return s

    def test_lifecycle_clean_disconnect(self):
        t0 = time.time()
        c = self.connect_device(DEV_A)
        on = self.check_status(self.wait_status(DEV_A, "online"), DEV_A, "online", t0, time.time())
        c.close()
        off = self.check_status(self.wait_status(DEV_A, "offline"), DEV_A, "offline", t0,
                                time.time())
        self.assertGreater(off["lastTime"], on["lastTime"])
        self.assertEqual(self.statuses_seen(), [("/as/mqtt/status/%s/%s" % DEV_A, "online"),
                                                ("/as/mqtt/status/%s/%s" % DEV_A, "offline")])

    def test_lifecycle_gathered_for_the_emulator(self):
        """What haas-emu reads: the lifecycle messages of one pass of the
        broker's loop as one JSON array on /as/mqtt/statuses (QoS 0, not
        retained), the same objects as the per-device messages, each once,
        in their order. 20 devices send their CONNECT at once and then
        drop their connections at once, so passes hold several."""
        gathered = self.client(SERVICE_USER, SERVICE_PASS, cid="gathered")
        self.assertEqual(gathered.connect(), 0)
        self.assertEqual(gathered.subscribe(["/as/mqtt/statuses"], qos=0), [0])
        devices = [(PK, "burst%03d" % i) for i in range(20)]
        for dev in devices:
            DEVICES[dev] = (random_secret(), 1)
            self.addCleanup(DEVICES.pop, dev)
            self.db.execute("INSERT INTO devices(product_key, device_name, device_secret, created_at) "
                            "VALUES (?, ?, ?, 1)", (dev[0], dev[1], secret_of(dev)))
        socks = [socket.create_connection(("127.0.0.1", self.broker.port), timeout=TIMEOUT) for _ in devices]
        for sock, dev in zip(socks, devices):
            sock.sendall(connect_packet(*creds(dev)))
        for sock in socks:
            self.assertEqual(sock.recv(4), b"\x20\x02\x00\x00")
        for dev in devices:
            self.wait_status(dev, "online")
        for sock in socks:
            sock.close()
        for dev in devices:
            self.wait_status(dev, "offline")
        per_device = [status_of(m) for m in self.watch.seen if m.topic.startswith("/as/mqtt/status/%s/burst" % PK)]
        self.assertEqual(len(per_device), 2 * len(devices))
        objects, messages = [], []
        while len(objects) < len(per_device):
            m = gathered.wait_for(lambda m: True, "the gathered lifecycle")
            self.assertEqual((m.topic, m.qos, m.retain), ("/as/mqtt/statuses", 0, False))
            messages.append(m)
            objects += json.loads(m.payload)
        self.assertEqual(objects, per_device)
        self.assertLess(len(messages), len(objects), "every login and logout came in a message of its own")

    def start_child_device(self, dev, keepalive=2):
        """A separate process holding one device connection; returns it once connected."""
        cid, user, pw = creds(dev, ident="child")
        code = (
            "import sys, paho.mqtt.client as mqtt\n"
            "c = mqtt.Client(client_id=sys.argv[2], protocol=mqtt.MQTTv311,"
            " reconnect_on_failure=False)\n"
            "c.username_pw_set(sys.argv[3], sys.argv[4])\n"
            "c.on_connect = lambda cl, u, f, rc: print('CONNACK %d' % rc, flush=True)\n"
            "c.connect('127.0.0.1', int(sys.argv[1]), int(sys.argv[5]))\n"
            "c.loop_forever()\n")
        child = subprocess.Popen([PYTHON, "-c", code, str(self.broker.port), cid, user, pw,
                                  str(keepalive)], stdout=subprocess.PIPE)
        self.children.append(child)
        ready, _, _ = select.select([child.stdout], [], [], TIMEOUT)
        self.assertTrue(ready, "child device did not report its CONNACK")
        self.assertEqual(child.stdout.readline().strip(), b"CONNACK 0")
        return child

    def test_lifecycle_replayed_to_late_subscribers(self):
        """A service client that subscribes to lifecycle topics gets every
        matching device's last status of this broker's life, once, replayed
        by the plugin (at its subscription's QoS, without the retain flag:
        mosquitto sends a message for one client as a plain one), then the
        live ones."""
        self.connect_device(DEV_A)
        a_online = status_of(self.wait_status(DEV_A, "online"))
        self.connect_device(DEV_B).close()
        self.wait_status(DEV_B, "offline")
        a_topic, b_topic = ("/as/mqtt/status/%s/%s" % dev for dev in (DEV_A, DEV_B))
        late = self.client(SERVICE_USER, SERVICE_PASS, cid="late-watcher")
        self.assertEqual(late.connect(), 0)
        self.assertEqual(late.subscribe(["/as/mqtt/status/#"]), [1])
        only_a = self.client(SERVICE_USER, SERVICE_PASS, cid="only-a")
        self.assertEqual(only_a.connect(), 0)
        self.assertEqual(only_a.subscribe(["/as/mqtt/status/+/%s" % DEV_A[1]], qos=0), [0])
        # barrier: a live status after the replays reaches both
        self.connect_device(DEV_BARRIER)
        barrier = "/as/mqtt/status/%s/%s" % DEV_BARRIER
        late.wait_for(lambda m: m.topic == barrier, "the barrier's live status")
        self.assertEqual(sorted((m.topic, status_of(m)["status"], m.qos, m.retain) for m in late.seen[:-1]),
                         [(a_topic, "online", 1, False), (b_topic, "offline", 1, False)])
        self.assertEqual([status_of(m) for m in late.seen if m.topic == a_topic], [a_online])
        # the narrower filter: only DEV_A's, at QoS 0, then the live one
        only_a.wait_for(lambda m: m.topic == a_topic, "DEV_A's replayed status")
        self.connect_device(DEV_A, ident="second")
        only_a.wait_for(lambda m: m.topic == a_topic, "DEV_A's next status")
        self.assertEqual([(m.topic, m.qos, m.retain) for m in only_a.seen], [(a_topic, 0, False)] * 2)
        self.assertIn("device statuses replayed to late-watcher", self.broker.read_log())

    def test_lifecycle_kept_for_a_session_that_outlives_its_connection(self):
        """Per-device lifecycle messages are published only while a service
        client may hold a subscription to them (status_watch.h). One whose
        session outlives its connection still holds it: what happens while
        it is away waits in its session, also after a takeover of its
        client id, until a clean start ends the session."""
        self.watch.close()  # the only other subscriber
        self.wait_log(NOT_PUBLISHED)
        keeper = self.client(SERVICE_USER, SERVICE_PASS, cid="keeper", clean_session=False)
        self.assertEqual(keeper.connect(), 0)
        self.assertEqual(keeper.subscribe(["/as/mqtt/status/#"]), [1])
        self.wait_log(PUBLISHED, 2)
        keeper.close()
        self.wait_log("Client keeper disconnected")  # the broker has handled it
        self.connect_device(DEV_A)
        back = self.client(SERVICE_USER, SERVICE_PASS, cid="keeper", clean_session=False)
        self.assertEqual(back.connect(), 0)
        m = back.wait_for(lambda m: m.topic == "/as/mqtt/status/%s/%s" % DEV_A, "the status queued meanwhile")
        self.assertEqual((status_of(m)["status"], m.qos, m.retain), ("online", 1, False))
        # a takeover: the old connection's end (reported as clean) leaves the
        # subscription with the new one
        again = self.client(SERVICE_USER, SERVICE_PASS, cid="keeper", clean_session=False)
        self.assertEqual(again.connect(), 0)
        self.assertTrue(back.disconnected.wait(TIMEOUT), "old connection not taken over")
        self.connect_device(DEV_B)
        m = again.wait_for(lambda m: m.topic == "/as/mqtt/status/%s/%s" % DEV_B, "a status after the takeover")
        self.assertEqual(status_of(m)["status"], "online")
        # a clean start with that client id ends the session, and the messages
        again.close()
        self.wait_log("Client keeper disconnected", 2)  # keeper, again (back was taken over)
        self.assertEqual(self.broker.read_log().count(NOT_PUBLISHED), 1)
        fresh = self.client(SERVICE_USER, SERVICE_PASS, cid="keeper")
        self.assertEqual(fresh.connect(), 0)
        self.wait_log(NOT_PUBLISHED, 2)

    def test_lifecycle_published_only_while_someone_listens(self):
        """The per-device messages go out only while a service client may
        hold a subscription that matches them (status_watch.h); the broker's
        log says when that changes. haas-emu's link subscribes and
        unsubscribes at once, which leaves them off."""
        self.wait_log(PUBLISHED)  # setUp's watcher
        self.watch.c.unsubscribe("/as/mqtt/status/#")
        self.wait_log(NOT_PUBLISHED)
        link = self.client(SERVICE_USER, SERVICE_PASS, cid="like-the-link", clean_session=False)
        self.assertEqual(link.connect(), 0)
        self.assertEqual(link.subscribe(["/as/mqtt/statuses", "/as/mqtt/status/+/+"], qos=0), [0, 0])
        link.c.unsubscribe("/as/mqtt/status/+/+")
        self.wait_log(NOT_PUBLISHED, 2)
        self.assertEqual(self.broker.read_log().count(PUBLISHED), 2)
        # a login now reaches the gathered topic only
        self.connect_device(DEV_A)
        m = link.wait_for(lambda m: m.topic == "/as/mqtt/statuses", "the gathered login")
        self.assertEqual([(o["deviceName"], o["status"]) for o in json.loads(m.payload)], [(DEV_A[1], "online")])
        self.assertEqual([m.topic for m in link.seen], ["/as/mqtt/statuses"])
        # a filter that cannot match them changes nothing
        self.assertEqual(link.subscribe(["/as/mqtt/refused", "/as/mqtt/status/+"]), [1, 1])
        self.assertEqual(self.broker.read_log().count(PUBLISHED), 2)

    def test_lifecycle_for_a_shared_subscription(self):
        """A shared subscription ($share/{group}/{filter}) gets the live
        per-device messages too, and, as with retained messages, no replay."""
        self.watch.close()  # the only other subscriber
        self.connect_device(DEV_A)
        shared = self.client(SERVICE_USER, SERVICE_PASS, cid="shared-watcher")
        self.assertEqual(shared.connect(), 0)
        self.assertEqual(shared.subscribe(["$share/grp//as/mqtt/status/#"]), [1])
        self.connect_device(DEV_B)
        m = shared.wait_for(lambda m: m.topic.startswith("/as/mqtt/status/"), "a live status")
        self.assertEqual((m.topic, status_of(m)["status"]), ("/as/mqtt/status/%s/%s" % DEV_B, "online"))
        self.assertEqual(shared.seen, [m], "DEV_A's status was replayed to a shared subscription")

    def test_lifecycle_device_killed(self):
        t0 = time.time()
        child = self.start_child_device(DEV_A)
        self.wait_status(DEV_A, "online")
        child.send_signal(signal.SIGKILL)
        child.wait()
        off = self.wait_status(DEV_A, "offline")
        self.check_status(off, DEV_A, "offline", t0, time.time())

    def test_lifecycle_keepalive_timeout(self):
        # A frozen device keeps its socket open: only the keepalive (2 s, the
        # broker allows 1.5x) can tell it is gone.
        child = self.start_child_device(DEV_B, keepalive=2)
        self.wait_status(DEV_B, "online")
        t_stop = time.monotonic()
        child.send_signal(signal.SIGSTOP)
        self.wait_status(DEV_B, "offline")
        self.assertGreaterEqual(time.monotonic() - t_stop, 2.0,
                                "offline before the keepalive could expire")
        child.send_signal(signal.SIGKILL)

    def test_lifecycle_takeover_ends_online(self):
        cid, user, pw = creds(DEV_A, ident="same-client-id")
        first = self.client(user, pw, cid=cid)
        self.assertEqual(first.connect(), 0)
        self.wait_status(DEV_A, "online")
        second = self.client(user, pw, cid=cid)
        self.assertEqual(second.connect(), 0)
        self.assertTrue(first.disconnected.wait(TIMEOUT), "old connection not taken over")
        self.wait_status(DEV_A, "online")
        # barrier: anything the takeover caused is published before this
        self.connect_device(DEV_BARRIER)
        self.wait_status(DEV_BARRIER, "online")
        a_topic = "/as/mqtt/status/%s/%s" % DEV_A
        self.assertEqual([s for t, s in self.statuses_seen() if t == a_topic],
                         ["online", "online"])
        second.close()
        self.wait_status(DEV_A, "offline")

    def test_lifecycle_two_connections_same_device(self):
        a1 = self.connect_device(DEV_A, ident="conn-1")
        a2 = self.connect_device(DEV_A, ident="conn-2")
        a1.close()
        self.assertTrue(a1.disconnected.wait(TIMEOUT))
        self.connect_device(DEV_BARRIER)
        self.wait_status(DEV_BARRIER, "online")
        a_topic = "/as/mqtt/status/%s/%s" % DEV_A
        self.assertNotIn((a_topic, "offline"), self.statuses_seen())
        a2.close()
        self.wait_status(DEV_A, "offline")


if __name__ == "__main__":
    unittest.main()
