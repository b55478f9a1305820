"""Shipping: docker compose, seeded and ephemeral runs, the management token,
extra MQTT ports for real HaaS firmware (issue "Ship it")."""
import json
import os
import re
import shutil
import subprocess
import unittest

import yaml

from harness import (APP_ID, EMU, OUT, ROOT, Emulator, EmulatorTest, emu_env, free_port, make_package,
                     package_name, wait_for)
from mqtt_device import Device

SEED_DIR = os.path.join(OUT, "seed")
SECRET = "oLyaKqVxtRvjH284LdhqVgVUx1UPy6zq"


def write_seed(secret=SECRET):
    os.makedirs(os.path.join(SEED_DIR, "packages"), exist_ok=True)
    with open(os.path.join(SEED_DIR, "packages", package_name("0.0.2")), "wb") as f:
        f.write(make_package({"main.py": "print('seeded')\n"}))
    seed = {
        "products": [{"productKey": "a1SeedProd1", "name": "CI product",
                      "devices": [{"deviceName": "ci-device-1", "deviceSecret": secret}]}],
        "groups": [{"groupId": "grp-ci", "name": "CI group",
                    "devices": [{"productKey": "a1SeedProd1", "deviceName": "ci-device-1"}]}],
        "apps": [{"appName": "python9000", "appId": APP_ID,
                  "versions": [{"file": "packages/" + package_name("0.0.2")}]}],
        "tasks": [{"taskId": "task-ci", "appId": APP_ID, "version": "0.0.2", "groupId": "grp-ci"}],
    }
    path = os.path.join(SEED_DIR, "seed.json")
    with open(path, "w") as f:
        json.dump(seed, f)
    return path


class SeedTest(unittest.TestCase):
    def snapshot(self, emu):
        return {p: emu.get(p).json for p in ("/api/v1/products", "/api/v1/products/a1SeedProd1/devices",
                                             "/api/v1/groups", "/api/v1/apps", "/api/v1/tasks/task-ci")}

    def test_seed_is_idempotent(self):
        seed = write_seed()
        emu = Emulator("ship-seed", ["--seed", seed]).start()
        try:
            first = self.snapshot(emu)
            self.assertEqual(first["/api/v1/products/a1SeedProd1/devices"]["items"][0]["deviceSecret"], SECRET)
            self.assertEqual(first["/api/v1/tasks/task-ci"]["counts"]["total"], 1)
            self.assertEqual(emu.get("/api/v1/apps/%s/versions" % APP_ID).json["total"], 1)
        finally:
            emu.stop()
        emu.start(fresh=False)  # same data, same seed: nothing changes
        try:
            second = self.snapshot(emu)
            self.assertEqual(second, first)
        finally:
            emu.stop()

    def test_conflicting_seed_is_refused(self):
        seed = write_seed()
        emu = Emulator("ship-seed-conflict", ["--seed", seed]).start()
        emu.stop()
        write_seed(secret="X" * 32)
        r = subprocess.run([EMU, "--http-port", str(free_port()), "--mqtt-port", str(free_port()),
                            "--mqtts-port", "0", "--https-port", "0", "--data-dir", emu.data_dir, "--seed", seed], capture_output=True, text=True, timeout=60,
                           env=emu_env())
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("exists with another secret than the seed's", r.stderr)

    def test_ephemeral(self):
        emu = Emulator("ship-ephemeral", ["--ephemeral"]).start()
        try:
            emu.product("gone soon")
            tmp = re.search(r"ephemeral data directory (\S+)", emu.read_log()).group(1)
            self.assertTrue(os.path.isfile(os.path.join(tmp, "haas.db")))
        finally:
            emu.stop()
        self.assertFalse(os.path.exists(tmp))


class TokenTest(EmulatorTest):
    emulator_args = ("--api-token", "s3cret-token")

    def test_management_api_needs_the_token(self):
        r = self.emu.get("/api/v1/products")
        self.assertEqual((r.status, r.code), (401, "Unauthorized"))
        self.assertEqual(self.emu.get("/api/v1/products", headers={"Authorization": "Bearer s3cret-token"}).status, 200)
        self.assertEqual(self.emu.get("/api/v1/products", headers={"X-Api-Token": "s3cret-token"}).status, 200)
        self.assertEqual(self.emu.get("/api/v1/products?token=s3cret-token").status, 200)
        self.assertEqual(self.emu.get("/api/v1/products", headers={"Authorization": "Bearer wrong"}).status, 401)
        r = self.emu.post("/api/v1/products", {"name": "x"})  # refused writes change nothing
        self.assertEqual(r.status, 401)
        self.assertEqual(self.emu.get("/api/v1/products?token=s3cret-token").json["total"], 0)
        self.assertEqual(self.emu.get("/healthz").status, 200)  # health checks stay open

    def test_device_paths_stay_open(self):
        auth = {"Authorization": "Bearer s3cret-token"}
        self.emu.request("POST", "/api/v1/apps", body={"appName": "python9000", "appId": APP_ID}, headers=auth)
        r = self.emu.request("POST", "/api/v1/apps/%s/versions?filename=%s" % (APP_ID, package_name()),
                             body=make_package({}), headers=auth)
        self.assertEqual(r.status, 201, r)
        url = r.json["url"]
        self.assertEqual(self.emu.get(url.split(str(self.emu.port), 1)[1]).status, 200)  # no token needed


class ExtraPortTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        cls.extra = free_port()
        cls.emulator_args = ("--mqtt-extra-port", str(cls.extra))
        super().setUpClass()

    def test_device_connects_on_the_extra_port(self):
        pk = self.emu.product("extra")
        ds = self.emu.device(pk, "extra-1")["deviceSecret"]
        d = Device(self.extra, pk, "extra-1", ds).connect()
        try:
            wait_for(lambda: self.emu.get("/api/v1/products/%s/devices/extra-1" % pk).json["status"] == "online",
                     what="online via the extra port")
        finally:
            d.close()


class ComposeTest(unittest.TestCase):
    """No Docker engine here: check what can be checked without one."""

    def test_compose_file(self):
        if shutil.which("docker-compose"):
            out = subprocess.run(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
                                 capture_output=True, text=True, cwd=ROOT, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            config = yaml.safe_load(out.stdout)
        else:
            with open(os.path.join(ROOT, "docker-compose.yml")) as f:
                config = yaml.safe_load(f)
        emu = config["services"]["emulator"]
        ports = {str(p.get("target")) if isinstance(p, dict) else str(p).split(":")[-1] for p in emu["ports"]}
        self.assertTrue({"8080", "1883", "8883", "8443"} <= ports, ports)
        volumes = [v if isinstance(v, str) else "%s:%s" % (v["source"], v["target"]) for v in emu["volumes"]]
        self.assertTrue(any(v.startswith("haas-data:/data") for v in volumes), volumes)
        self.assertIn("haas-data", config["volumes"])

    def test_dockerfile_uses_the_tested_steps(self):
        with open(os.path.join(ROOT, "Dockerfile")) as f:
            steps = [line for line in f.read().splitlines() if line.startswith(("FROM", "RUN", "ENTRYPOINT"))]
        self.assertTrue(steps[0].startswith("FROM debian:12"), steps)
        # the same package list and installer as `make run` / `make test`, and the same build
        self.assertIn("RUN sh server/install-deps.sh server/debian-packages.txt && rm -rf /var/lib/apt/lists/*", steps)
        self.assertIn("RUN make", steps)
        with open(os.path.join(ROOT, "Makefile")) as f:
            self.assertIn("@sh server/install-deps.sh server/debian-packages.txt\n", f.read())
