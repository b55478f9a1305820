"""The README's quick start works from a fresh clone exactly as written:
`make run` builds and starts the emulator, and the tutorial's curl flow runs
against it from top to bottom."""
import os
import re
import shutil
import signal
import socket
import subprocess
import unittest

from harness import OUT, ROOT, wait_for

CLONE = os.path.join(OUT, "readme-clone")


def code_block_after(text, heading):
    """The first ```sh block after a '## heading' line."""
    start = text.index("## " + heading)
    m = re.compile(r"```sh\n(.*?)```", re.S).search(text, start)
    return m.group(1)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class ReadmeTest(unittest.TestCase):
    def test_quick_start_from_a_fresh_clone(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        quick = [line.split("#")[0].strip() for line in code_block_after(readme, "Quick start").splitlines()]
        self.assertEqual([c for c in quick if c], ["make run", "make test"])
        flow = code_block_after(readme, "The tutorial's flow with curl")

        shutil.rmtree(CLONE, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", ROOT, CLONE], check=True)
        env = dict(os.environ)
        for var in ("HAAS_EMU", "HAAS_DEVICE", "HAAS_AUTH_SO", "LD_PRELOAD"):
            env.pop(var, None)
        http, mqtt = 8080, 1883
        if not all(port_free(p) for p in (8080, 1883, 8883, 8443)):  # the documented variables move it
            from harness import free_ports
            http, mqtt, mqtts, https = free_ports(4)
            env.update(HAAS_HTTP_PORT=str(http), HAAS_MQTT_PORT=str(mqtt), HAAS_MQTTS_PORT=str(mqtts),
                       HAAS_HTTPS_PORT=str(https))
            flow = flow.replace("127.0.0.1:8080", "127.0.0.1:%d" % http)
        self.assertEqual(subprocess.run(["make", "-n", "test"], cwd=CLONE, capture_output=True).returncode, 0)

        log = open(os.path.join(OUT, "logs", "readme-make-run.log"), "wb")
        run = subprocess.Popen(["make", "run"], cwd=CLONE, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
        try:
            def healthy():
                if run.poll() is not None:
                    raise AssertionError("make run ended with %s" % run.returncode)
                r = subprocess.run(["curl", "-fs", "http://127.0.0.1:%d/healthz" % http], capture_output=True)
                return r.returncode == 0
            wait_for(healthy, timeout=900, interval=0.5, what="make run to build and start")
            work = os.path.join(OUT, "readme-flow")
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            r = subprocess.run(["bash", "-e", "-c", flow], cwd=work, capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn('"deviceName":"core2-0001"', r.stdout)
            self.assertIn("manifest.json", r.stdout)  # the downloaded package listed by tar tzv
            self.assertIn('"pushed":0,"offline":1', r.stdout)  # no device online in this walk-through
            api = "http://127.0.0.1:%d/api/v1" % http
            out = subprocess.run(["curl", "-fs", api + "/apps/8800100099990000/versions"], capture_output=True,
                                 text=True).stdout
            self.assertIn('"total":0', out)  # deprecated, then deleted
            self.assertTrue(os.path.isfile(os.path.join(CLONE, "var", "haas.db")))  # data in ./var
        finally:
            os.killpg(run.pid, signal.SIGTERM)
            run.wait(timeout=60)
            log.close()
