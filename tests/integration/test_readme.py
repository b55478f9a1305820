"""The README works from a fresh clone exactly as written, on a desktop where
another broker already holds 1883 (installing Debian's mosquitto package
starts one): `make run` builds and starts the emulator, which takes the next
MQTT port and says so; the tutorial's curl flow then runs from top to
bottom — product, device, a simulated Core2 (haas-device) on the emulator's
broker, a version, a task pushed to it — and ends with the device on the
new version; then the version is deprecated and deleted."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import unittest

from harness import OUT, ROOT, ForeignBroker, free_ports, wait_for

CLONE = os.path.join(OUT, "readme-clone")


def code_blocks_after(text, heading):
    """The ```sh blocks of the section '## heading' (up to the next '## ')."""
    start = text.index("## " + heading)
    end = text.find("\n## ", start + 3)
    return re.findall(r"```sh\n(.*?)```", text[start:end if end > 0 else len(text)], re.S)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class ReadmeTest(unittest.TestCase):
    def test_quick_start_and_flow_with_a_foreign_broker_on_1883(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        quick = [line.split("#")[0].strip() for line in code_blocks_after(readme, "Quick start")[0].splitlines()]
        self.assertEqual([c for c in quick if c], ["make run", "make test"])
        flow, cleanup = code_blocks_after(readme, "The tutorial's flow with curl")

        # another broker on 1883 first (it may be there already: then it is the foreign one)
        foreign = ForeignBroker(1883) if port_free(1883) else None
        if foreign:
            self.addCleanup(foreign.stop)
        shutil.rmtree(CLONE, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", ROOT, CLONE], check=True)
        env = dict(os.environ)
        for var in ("HAAS_EMU", "HAAS_DEVICE", "HAAS_AUTH_SO", "LD_PRELOAD"):
            env.pop(var, None)
        http = 8080
        if not all(port_free(p) for p in (8080, 8883, 8443)):  # the documented variables move them
            http, mqtts, https = free_ports(3)
            env.update(HAAS_HTTP_PORT=str(http), HAAS_MQTTS_PORT=str(mqtts), HAAS_HTTPS_PORT=str(https))
            flow = flow.replace("127.0.0.1:8080", "127.0.0.1:%d" % http)
        self.assertEqual(subprocess.run(["make", "-n", "test"], cwd=CLONE, capture_output=True).returncode, 0)

        log_path = os.path.join(OUT, "logs", "readme-make-run.log")
        log = open(log_path, "wb")
        run = subprocess.Popen(["make", "run"], cwd=CLONE, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
        try:
            def healthy():
                if run.poll() is not None:
                    raise AssertionError("make run ended with %s" % run.returncode)
                r = subprocess.run(["curl", "-fs", "http://127.0.0.1:%d/healthz" % http], capture_output=True)
                return r.returncode == 0
            wait_for(healthy, timeout=900, interval=0.5, what="make run to build and start")
            with open(log_path, encoding="utf-8", errors="replace") as f:
                said = f.read()
            self.assertRegex(said, r"MQTT port 1883 is held by .*; the emulator's broker takes \d+ instead")
            api = "http://127.0.0.1:%d/api/v1" % http
            mqtt_port = json.loads(subprocess.run(["curl", "-fs", api], capture_output=True, text=True).stdout)[
                "endpoints"]["mqttPort"]
            self.assertNotEqual(mqtt_port, 1883)

            r = subprocess.run(["bash", "-e", "-c", flow], cwd=CLONE, capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn('"pushed":1,"offline":0', r.stdout)
            with open(os.path.join(CLONE, "flash", "data", "pyamp", "manifest.json")) as f:
                self.assertEqual(json.load(f)["version"], "0.0.2")
            self.assertIn("new version upgrade success.", r.stdout)  # tail of the device's log
            self.assertIn("manifest.json", r.stdout)  # the downloaded package listed by tar tzv
            r = subprocess.run(["bash", "-e", "-c", "API=%s\n%s" % (api, cleanup)], cwd=CLONE, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = subprocess.run(["curl", "-fs", api + "/apps/8800100099990000/versions"], capture_output=True,
                                 text=True).stdout
            self.assertIn('"total":0', out)  # deprecated, then deleted
            self.assertTrue(os.path.isfile(os.path.join(CLONE, "var", "haas.db")))  # data in ./var
        finally:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=60)
            log.close()
            subprocess.run(["pkill", "-f", "haas-device --product-key .* --root flash"], capture_output=True)


if __name__ == "__main__":
    unittest.main()
