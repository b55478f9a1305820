"""TLS as real devices use it: the local CA and server certificate
(tls_certs.c), MQTT over TLS on the managed broker, https:// package URLs,
and clients that verify the emulator's CA (mosquitto_sub/pub --cafile,
paho, curl --cacert, haas-device with mqtts:// and --ca-file); a wrong CA
fails. The whole Link SDK C 4.x test class runs again over TLS."""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import APP_ID, EMU, OUT, Emulator, EmulatorTest, make_package, package_name, wait_for
from linksdk_device import LinkSdkDevice, linksdk_credentials
from sim_device import SimDevice, tutorial_package
from test_device_e2e import NEW_MAIN, OLD_MAIN
import test_linksdk


def other_ca(tmp):
    """A CA certificate that did not sign the emulator's certificate."""
    path = os.path.join(tmp, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    os.path.join(tmp, "other-ca.key"), "-out", path, "-subj", "/CN=not the emulator", "-days", "2"],
                   check=True, capture_output=True)
    return path


def https_emulator(name, *extra):
    """An emulator whose package URLs are https:// on its HTTPS port."""
    emu = Emulator(name)
    emu.args = ["--public-url", "https://127.0.0.1:%d" % emu.https_port] + list(extra)
    return emu


def fetch_ca(emu, directory):
    """GET /api/v1/ca.pem into directory; returns the path."""
    r = emu.get("/api/v1/ca.pem")
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/x-pem-file", r.headers
    path = os.path.join(directory, "ca.pem")
    with open(path, "wb") as f:
        f.write(r.body)
    return path


class LinkSdkOverTlsTest(test_linksdk.LinkSdkTest):
    """Every Link SDK C 4.x test again, with securemode=2 on the TLS port,
    verifying the emulator's CA, and https:// package URLs."""

    @classmethod
    def start_emulator(cls):
        emu = https_emulator(cls.__module__ + "." + cls.__name__).start()
        cls.tmp = tempfile.mkdtemp(prefix="linksdk-tls-")
        cls.cafile = fetch_ca(emu, cls.tmp)
        return emu

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def mqtt_port(self):
        return self.emu.mqtts_port

    def test_push_url_is_https(self):
        d = self.linksdk("core2-https")
        app = self.upgrade(d, "0.0.1", "0.0.2")
        self.assertTrue(app["url"].startswith("https://127.0.0.1:%d/" % self.emu.https_port), app["url"])
        self.assertIn("securemode=2", d.client_id)


class TlsTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        cls.emu = https_emulator(cls.__module__ + "." + cls.__name__, "--tls-san", "core2.example,10.9.8.7").start()
        cls.tmp = tempfile.mkdtemp(prefix="tls-")
        cls.cafile = fetch_ca(cls.emu, cls.tmp)
        cls.wrong_ca = other_ca(cls.tmp)
        cls.pk = cls.emu.product("tls")
        cls.emu.app()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tls_file(self, name):
        return os.path.join(self.emu.data_dir, "tls", name)

    def test_ca_and_server_certificate(self):
        with open(self.cafile, "rb") as f, open(self.tls_file("ca.pem"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        v = subprocess.run(["openssl", "verify", "-CAfile", self.cafile, self.tls_file("server.pem")],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        san = subprocess.run(["openssl", "x509", "-in", self.tls_file("server.pem"), "-noout", "-ext",
                              "subjectAltName"], capture_output=True, text=True, check=True).stdout
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "DNS:*.iot-as-mqtt.cn-shanghai.aliyuncs.com",
                     "DNS:core2.example", "IP Address:10.9.8.7"):
            self.assertIn(name, san)
        self.assertEqual(os.stat(self.tls_file("ca.key")).st_mode & 0o077, 0)
        self.assertEqual(os.stat(self.tls_file("server.key")).st_mode & 0o077, 0)
        ends = self.emu.get("/api/v1").json["endpoints"]
        self.assertEqual((ends["mqttsPort"], ends["httpsPort"], ends["caPem"]),
                         (self.emu.mqtts_port, self.emu.https_port, "/api/v1/ca.pem"))

    def test_mosquitto_clients_verify_the_ca(self):
        ds = self.emu.device(self.pk, "mosq-tls")["deviceSecret"]
        # two clientIds of one device: `_conn` is outside the signed content
        sub_id, user, pw = linksdk_credentials(self.pk, "mosq-tls", ds, tls=True, conn_ms=1)
        pub_id, _, _ = linksdk_credentials(self.pk, "mosq-tls", ds, tls=True, conn_ms=2)
        post = "/sys/%s/mosq-tls/thing/event/property/post" % self.pk
        common = ["-h", "localhost", "-p", str(self.emu.mqtts_port), "-V", "mqttv311", "-u", user, "-P", pw]
        sub = subprocess.Popen(["mosquitto_sub"] + common + ["--cafile", self.cafile, "-i", sub_id, "-t",
                               post + "_reply", "-C", "1", "-W", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: sub.poll() is None and sub.kill())

        def posted_and_replied():
            pub = subprocess.run(["mosquitto_pub"] + common + ["--cafile", self.cafile, "-i", pub_id, "-t", post,
                                 "-m", '{"id":"5","params":{}}', "-q", "1"], capture_output=True, text=True,
                                 timeout=20)
            self.assertEqual(pub.returncode, 0, pub.stderr)
            return sub.poll() is not None
        # the subscription may not be in place yet: post until it sees a reply
        wait_for(posted_and_replied, timeout=20, interval=0.2, what="mosquitto_sub got the post_reply")
        out, err = sub.communicate(timeout=10)
        self.assertEqual(sub.returncode, 0, err)
        self.assertIn(b'"id":"5"', out)
        # the same command with another CA never gets in
        bad = subprocess.run(["mosquitto_pub"] + common + ["--cafile", self.wrong_ca, "-i", pub_id, "-t", post,
                             "-m", "{}"], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(bad.returncode, 0)
        self.assertRegex(bad.stderr.lower(), "certificate|tls|ssl|handshake|protocol")

    def test_tls_12_or_newer_only(self):
        """Both TLS listeners speak TLS 1.2+ only, as the cloud does."""
        for port in (self.emu.mqtts_port, self.emu.https_port):
            for version, works in (("-tls1_1", False), ("-tls1_2", True)):
                r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, version, "-cipher",
                                    "DEFAULT@SECLEVEL=0", "-CAfile", self.cafile, "-verify_return_error"],
                                   input="", capture_output=True, text=True, timeout=20)
                self.assertEqual(r.returncode == 0, works, "%s on %d:\n%s" % (version, port, r.stdout[-500:]))

    def test_paho_with_wrong_ca_fails(self):
        ds = self.emu.device(self.pk, "paho-wrong")["deviceSecret"]
        d = LinkSdkDevice(self.emu.mqtts_port, self.pk, "paho-wrong", ds, cafile=self.wrong_ca)
        with self.assertRaises(ssl.SSLError):
            d.connect()
        d.c.loop_stop()
        good = LinkSdkDevice(self.emu.mqtts_port, self.pk, "paho-wrong", ds, cafile=self.cafile).connect()
        good.close()

    def test_curl_downloads_https_package_url(self):
        data = make_package({"main.py": "print(1)\n"}, version="0.0.7")
        r = self.emu.upload(APP_ID, package_name("0.0.7"), data)
        self.assertEqual(r.status, 201, r)
        url = self.emu.get("/api/v1/apps/%s/versions/0.0.7" % APP_ID).json["url"]
        self.assertTrue(url.startswith("https://127.0.0.1:%d/" % self.emu.https_port), url)
        out = os.path.join(self.tmp, "pkg.tar.gz")
        c = subprocess.run(["curl", "-sS", "-f", "--cacert", self.cafile, "-o", out, url], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(c.returncode, 0, c.stderr)
        with open(out, "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(), hashlib.md5(data).hexdigest())
        # without the CA: curl refuses the certificate (exit 60)
        self.assertEqual(subprocess.run(["curl", "-sS", "-o", os.devnull, url], capture_output=True).returncode, 60)
        # a range, as Link SDK's downloader asks
        c = subprocess.run(["curl", "-sS", "--cacert", self.cafile, "-r", "0-9", "-w", "%{http_code}", "-o",
                            os.devnull, url], capture_output=True, text=True, timeout=30)
        self.assertEqual(c.stdout, "206")
        # a tampered signature is refused over TLS as over HTTP
        c = subprocess.run(["curl", "-sS", "--cacert", self.cafile, "-w", "%{http_code}", "-o", os.devnull,
                            url.replace("Signature=", "Signature=x")], capture_output=True, text=True, timeout=30)
        self.assertEqual(c.stdout, "403")


class TlsLifecycleTest(unittest.TestCase):
    def test_reused_across_restart_and_reissued_for_new_names(self):
        emu = Emulator("tls-restart").start()
        try:
            tls = os.path.join(emu.data_dir, "tls")
            def read(name):
                with open(os.path.join(tls, name), "rb") as f:
                    return f.read()
            ca, cert = read("ca.pem"), read("server.pem")
            emu.stop()
            emu.start(fresh=False)
            self.assertEqual((read("ca.pem"), read("server.pem")), (ca, cert))
            emu.stop()
            emu.args = ["--tls-san", "new.example"]
            emu.start(fresh=False)
            self.assertEqual(read("ca.pem"), ca)          # devices keep trusting it
            self.assertNotEqual(read("server.pem"), cert)  # a certificate for the new name
            self.assertIn(b"new.example", read("server.names"))
        finally:
            emu.stop()

    def test_own_certificate(self):
        tmp = tempfile.mkdtemp(prefix="tls-own-")
        self.addCleanup(shutil.rmtree, tmp, True)
        key, cert = os.path.join(tmp, "own.key"), os.path.join(tmp, "own.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2"],
                       check=True, capture_output=True)
        emu = Emulator("tls-own", ["--tls-cert", cert, "--tls-key", key])
        emu.start()
        try:
            r = emu.get("/api/v1/ca.pem")
            self.assertEqual((r.status, r.code), (404, "NoLocalCa"))
            ctx = ssl.create_default_context(cafile=cert)
            with socket.create_connection(("127.0.0.1", emu.mqtts_port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    self.assertIn(("commonName", "localhost"), [x[0] for x in t.getpeercert()["subject"]])
        finally:
            emu.stop()
        # half of a pair is refused at start
        bad = subprocess.run([EMU, "--tls-cert", cert, "--data-dir", os.path.join(tmp, "d")],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--tls-cert and --tls-key go together", bad.stderr)


class DeviceOverTlsTest(EmulatorTest):
    """haas-device (the SDK's Linux port) pointed at mqtts:// and https://
    runs the tutorial end to end."""

    @classmethod
    def setUpClass(cls):
        cls.emu = https_emulator(cls.__module__ + "." + cls.__name__).start()
        cls.tmp = tempfile.mkdtemp(prefix="device-tls-")
        cls.cafile = fetch_ca(cls.emu, cls.tmp)
        cls.pk = cls.emu.product("HaaS Core2")
        cls.emu.app()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def device(self, dn, ca):
        ds = self.emu.device(self.pk, dn)["deviceSecret"]
        d = SimDevice("%s-%s" % (type(self).__name__, dn), self.emu, self.pk, dn, ds)
        d.broker = "mqtts://127.0.0.1:%d" % self.emu.mqtts_port
        d.install("0.0.1", {"main.py": OLD_MAIN})
        self.addCleanup(d.stop)
        d.start(["--ca-file", ca])
        return d

    def test_tutorial_over_tls(self):
        d = self.device("core2-tls", self.cafile)
        d.wait_log("link platform connected")
        wait_for(lambda: self.emu.get("/api/v1/products/%s/devices/core2-tls" % self.pk).json["status"] == "online",
                 what="online over TLS")
        work = os.path.join(OUT, "packages", type(self).__name__)
        os.makedirs(work, exist_ok=True)
        _, data = tutorial_package(work, "0.0.2", {"main.py": NEW_MAIN})
        self.assertEqual(self.emu.upload(APP_ID, package_name("0.0.2"), data).status, 201)
        gid = self.emu.post("/api/v1/groups", {"name": "tls"}).json["groupId"]
        self.emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": self.pk,
                                                                        "deviceName": "core2-tls"}]})
        tid = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid}).json["taskId"]
        self.assertEqual(self.emu.post("/api/v1/tasks/%s/push" % tid).json["pushed"], 1)
        wait_for(lambda: self.emu.get("/api/v1/tasks/" + tid).json["devices"][0]["state"] == "succeeded",
                 timeout=60, what="succeeded over TLS")
        d.wait_log("new version upgrade success.", timeout=30)
        # the only package URL it was given is https:// (verified with the CA)
        url = self.emu.get("/api/v1/apps/%s/versions/0.0.2" % APP_ID).json["url"]
        self.assertTrue(url.startswith("https://"), url)
        self.assertIn("over TLS", d.read_log())

    def test_wrong_ca_never_connects(self):
        d = self.device("core2-badca", other_ca(self.tmp))
        d.wait_log("certificate", timeout=30)
        self.assertEqual(self.emu.get("/api/v1/products/%s/devices/core2-badca" % self.pk).json["status"],
                         "inactive")
        self.assertNotIn("link platform connected", d.read_log())
