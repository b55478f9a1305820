"""Shipping: docker compose, seeded and ephemeral runs, the management token,
extra MQTT ports for real HaaS firmware (issue "Ship it"); the Dockerfile's
stages, the build context and compose's environment checked without a
container engine (test_image.py builds the image where one runs)."""
import difflib
import json
import os
import re
import shutil
import subprocess
import unittest

import yaml

from harness import (APP_ID, EMU, OUT, ROOT, Emulator, EmulatorTest, emu_env, free_port, free_ports, make_package,
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
        http_port, mqtt_port = free_ports(2)  # two calls of free_port() may give the same port
        r = subprocess.run([EMU, "--http-port", str(http_port), "--mqtt-port", str(mqtt_port),
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


def dockerfile_stages(path=os.path.join(ROOT, "Dockerfile")):
    """The Dockerfile as stages: [{"from": image, "name": name, "steps": [(INSTRUCTION, args)]}],
    continuation lines joined, comments dropped."""
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if not line.lstrip().startswith("#")]
    stages = []
    for text in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines():
        if not text.strip():
            continue
        word, _, args = text.strip().partition(" ")
        args = re.sub(r"\s+", " ", args).strip()
        if word.upper() == "FROM":
            image, name = re.match(r"(\S+)(?:\s+as\s+(\S+))?", args, re.I).groups()
            stages.append({"from": image, "name": name or "", "steps": []})
        stages[-1]["steps"].append((word.upper(), args))
    return stages


def steps(stage, word):
    return [args for w, args in stage["steps"] if w == word]


def package_list(path):
    with open(os.path.join(ROOT, path)) as f:
        return [p for line in f for p in line.split("#")[0].split()]


INSTALL_DEPS = "sh server/install-deps.sh server/debian-packages.txt"
RUNTIME_LIST = "server/debian-runtime-packages.txt"
# build outputs the image carries (haas-emu, its broker plugin, the simulator)
PROGRAMS = ("haas-emu", "haas_auth.so", "haas-device")


class DockerfileTest(unittest.TestCase):
    """No container engine here: the stages are checked as text
    (tests/integration/test_image.py builds and measures the image where
    podman or docker runs)."""

    @classmethod
    def setUpClass(cls):
        cls.stages = dockerfile_stages()
        cls.build, cls.runtime = cls.stages[0], cls.stages[-1]

    def test_two_stages(self):
        self.assertEqual(len(self.stages), 2, [s["from"] for s in self.stages])
        self.assertTrue(self.build["from"].startswith("debian:12"), self.build["from"])
        self.assertEqual(self.build["name"], "build")
        self.assertEqual(self.runtime["from"], "debian:12-slim")

    def test_build_stage_uses_the_tested_steps(self):
        # the same package list and installer as `make run` / `make test`, and the same build
        run = steps(self.build, "RUN")
        self.assertIn(INSTALL_DEPS + " && rm -rf /var/lib/apt/lists/*", run)
        self.assertIn("make", run)
        self.assertIn("server/debian-packages.txt server/install-deps.sh server/", steps(self.build, "COPY"))
        with open(os.path.join(ROOT, "Makefile")) as f:
            self.assertIn("@" + INSTALL_DEPS + "\n", f.read())

    def test_runtime_stage_installs_only_the_runtime_packages(self):
        run = " && ".join(steps(self.runtime, "RUN"))
        commands = [c.strip() for c in re.split(r"&&|;|\|\|", run)]
        installers = [c for c in commands if "install-deps.sh" in c]
        self.assertEqual(len(installers), 1, installers)
        self.assertTrue(installers[0].endswith("/debian-runtime-packages.txt"), installers)
        self.assertNotIn("debian-packages.txt", run.replace("debian-runtime-packages.txt", ""))
        # apt-get installs setcap's package alone, and purges it in the same layer
        for c in commands:
            if c.startswith("apt-get install"):
                self.assertEqual([w for w in c.split()[2:] if not w.startswith("-")], ["libcap2-bin"], c)
        self.assertEqual(len(steps(self.runtime, "RUN")), 1, "libcap2-bin must leave in the layer it came in")
        self.assertRegex(run, r"apt-get purge [^&]*libcap2-bin")
        self.assertIn("setcap cap_net_bind_service=+ep /usr/sbin/mosquitto", commands)
        self.assertIn("rm -rf /var/lib/apt/lists/*", run)
        self.assertFalse(re.search(r"\b(make|gcc|cc)\b", run), run)
        # the list: runtime libraries only, none of the build stage's -dev packages or compilers
        runtime = package_list(RUNTIME_LIST)
        self.assertEqual([p for p in runtime if p.endswith("-dev") or p in ("build-essential", "pkg-config")], [])
        self.assertIn("mosquitto", runtime)
        self.assertIn("curl", runtime)  # the HEALTHCHECK's

    def test_runtime_stage_copies_only_build_outputs_and_the_console(self):
        copied = {}
        for args in steps(self.runtime, "COPY"):
            words = args.split()
            opts = [w for w in words if w.startswith("--")]
            *sources, dest = [w for w in words if not w.startswith("--")]
            if "--from=build" in opts:
                for src in sources:
                    rel = os.path.relpath(src, "/src")
                    self.assertTrue(rel in ["build/" + p for p in PROGRAMS] or rel == "web", src)
                    copied[rel] = os.path.join(dest, os.path.basename(src)) if dest.endswith("/") else dest
            else:  # from the context: the installer and the runtime list, nothing else
                self.assertEqual(opts, [], args)
                self.assertEqual(sorted(sources), sorted(["server/install-deps.sh", RUNTIME_LIST]), args)
                self.assertTrue(dest.startswith("/tmp/"), args)
                self.assertIn("rm -rf /var/lib/apt/lists/* " + dest.rstrip("/"), " ".join(steps(self.runtime, "RUN")))
        self.assertEqual(set(copied), {"build/" + p for p in PROGRAMS} | {"web"}, copied)
        # haas-emu loads haas_auth.so from beside itself and finds the console at ../web
        entry = json.loads(steps(self.runtime, "ENTRYPOINT")[0])[0]
        self.assertEqual(entry, copied["build/haas-emu"])
        self.assertEqual(os.path.dirname(copied["build/haas_auth.so"]), os.path.dirname(entry))
        self.assertEqual(os.path.normpath(os.path.join(os.path.dirname(entry), "..", "web")), copied["web"])

    def test_runtime_stage_runs_unprivileged(self):
        users = steps(self.runtime, "USER")
        self.assertEqual(len(users), 1, users)
        user = users[0].split(":")[0]
        self.assertNotIn(user, ("root", "0", ""))
        run = " ".join(steps(self.runtime, "RUN"))
        uid = re.search(r"useradd [^&]*--uid (\d+)[^&]* (\w+) ", run)
        self.assertTrue(uid, run)
        self.assertIn(user, uid.groups())
        self.assertIn("chown %s:%s /data" % (uid.group(2), uid.group(2)), run)  # before VOLUME: new volumes are its
        self.assertEqual(steps(self.runtime, "VOLUME"), ["/data"])

    def test_runtime_stage_environment_ports_health(self):
        env = " ".join(steps(self.runtime, "ENV"))
        for setting in ("HAAS_BIND=0.0.0.0", "HAAS_DATA_DIR=/data", "HAAS_MQTT_EXTRA_PORT=443"):
            self.assertIn(setting, env.split())
        self.assertEqual(set(" ".join(steps(self.runtime, "EXPOSE")).split()), {"8080", "1883", "443", "8883", "8443"})
        health = steps(self.runtime, "HEALTHCHECK")
        self.assertEqual(len(health), 1)
        self.assertIn("curl -fsS", health[0])
        self.assertIn("/healthz", health[0])

    def test_runtime_packages_cover_the_programs(self):
        """Every library the built programs link to comes from a package of
        server/debian-runtime-packages.txt (or libc6, in every Debian image),
        and every name there is a Debian package."""
        if not (shutil.which("dpkg") and shutil.which("readelf") and shutil.which("apt-cache")):
            self.skipTest("needs dpkg, readelf and apt-cache (Debian)")
        programs = [os.path.join(ROOT, "build", p) for p in PROGRAMS]
        if not all(os.path.exists(p) for p in programs):
            self.skipTest("build/ has not been built (make)")
        runtime = package_list(RUNTIME_LIST)
        show = subprocess.run(["apt-cache", "show", "--no-all-versions"] + runtime, capture_output=True, text=True)
        known = set(re.findall(r"^Package: (\S+)$", show.stdout, re.M))
        self.assertEqual([p for p in runtime if p not in known], [], "not Debian packages here")
        needed = {}  # library -> the programs that need it
        for program in programs:
            dyn = subprocess.run(["readelf", "-d", program], capture_output=True, text=True).stdout
            for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn):
                needed.setdefault(lib, []).append(os.path.basename(program))
        owners = {}  # library file name -> the packages that ship it
        found = subprocess.run(["dpkg", "-S"] + sorted(needed), capture_output=True, text=True).stdout
        for line in found.splitlines():
            packages, _, path = line.partition(": ")
            owners.setdefault(os.path.basename(path), set()).update(p.split(":")[0].strip() for p in packages.split(","))
        for lib, users in sorted(needed.items()):
            self.assertIn(lib, owners, "%s (%s): no Debian package ships it" % (lib, users))
            self.assertTrue(owners[lib] & (set(runtime) | {"libc6"}),
                            "%s need %s from %s: add it to %s" % (users, lib, sorted(owners[lib]), RUNTIME_LIST))


def docker_ignored(patterns, path):
    """Is path (relative to the context) left out by .dockerignore patterns
    (Docker's rules: last match wins, '!' re-includes, a folder's pattern
    covers what is inside it, '**' any number of folders)?"""
    def match(pattern, rel):
        rx = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            rx += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        return re.fullmatch(rx, rel) is not None
    parts = path.split("/")
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = os.path.normpath(raw.lstrip("!").strip("/"))
        if any(match(pattern, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negate
    return excluded


def dockerignore_patterns():
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


class BuildContextTest(unittest.TestCase):
    """What goes into git and into the image's build context."""

    LEFT_OUT = ("flash/data/pyamp/main.py", "var/haas.db", "build/haas-emu", "tests/out/ci-example/emu.log",
                "tests/browser/node_modules/x/index.js", "web/node_modules/x.js", ".git/HEAD")

    def test_outputs_and_walkthrough_leftovers_stay_out_of_the_context(self):
        patterns = dockerignore_patterns()
        for path in self.LEFT_OUT + ("testUpgrade/main.py", "python9000-8800100099990000-0.0.2.tar.gz",
                                     "haas-emu-ca.pem", "server/src/__pycache__/x.pyc"):
            self.assertTrue(docker_ignored(patterns, path), path)
        for path in ("Makefile", "server/src/main.c", "server/install-deps.sh", RUNTIME_LIST,
                     "server/plugin/x.c", "sdk/tools/haas_device.c", "schema/migrations/0001_init.sql",
                     "web/index.html"):
            self.assertFalse(docker_ignored(patterns, path), path)

    def test_the_context_builds_what_the_tree_builds(self):
        """`make` in a copy of the build context plans the same commands as
        in the tree: nothing `make` reads is left out."""
        if not shutil.which("make"):
            self.skipTest("no make")
        patterns = dockerignore_patterns()
        context = os.path.join(OUT, "docker-context")
        shutil.rmtree(context, ignore_errors=True)
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.splitlines()
        for rel in listed:
            if not docker_ignored(patterns, rel) and os.path.isfile(os.path.join(ROOT, rel)):
                os.makedirs(os.path.dirname(os.path.join(context, rel)), exist_ok=True)
                shutil.copy2(os.path.join(ROOT, rel), os.path.join(context, rel))
        # --no-print-directory: under `make test` (MAKELEVEL set) make would
        # print "Entering directory" with each folder's own path
        plans = [subprocess.run(["make", "-n", "-B", "--no-print-directory", "BUILD=/nonexistent/build", "all"],
                                cwd=d, capture_output=True, text=True, timeout=60) for d in (ROOT, context)]
        self.assertEqual(plans[1].returncode, 0, plans[1].stderr)
        diff = list(difflib.unified_diff(plans[0].stdout.splitlines(), plans[1].stdout.splitlines(), "tree",
                                         "build context", n=0, lineterm=""))
        if diff:
            self.fail("make plans otherwise in the build context: is a file it reads in .dockerignore?\n" +
                      "\n".join(line[:300] for line in diff[:12]))
        shutil.rmtree(context, ignore_errors=True)

    def test_outputs_and_walkthrough_leftovers_stay_out_of_git(self):
        if not os.path.isdir(os.path.join(ROOT, ".git")):
            self.skipTest("not a git checkout")
        paths = [p for p in self.LEFT_OUT if not p.startswith(".git/")] + [
            "testUpgrade/main.py", "python9000-8800100099990000-0.0.2.tar.gz", "haas-emu-ca.pem"]
        r = subprocess.run(["git", "check-ignore", "--no-index"] + paths, cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(sorted(r.stdout.split()), sorted(paths), r.stderr)


class ComposeTest(unittest.TestCase):
    """No container engine here: check what can be checked without one."""

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

    PASSED = ("HAAS_API_TOKEN", "HAAS_PUBLIC_URL")

    def test_environment_is_passed_through_not_defaulted(self):
        """`- NAME` (no value, no ${NAME:-} default): set in the caller's
        environment it reaches the container, unset it does not."""
        with open(os.path.join(ROOT, "docker-compose.yml")) as f:
            emu = yaml.safe_load(f)["services"]["emulator"]
        self.assertEqual(sorted(emu["environment"]), sorted(self.PASSED))

    def docker_compose_env(self, env):
        out = subprocess.run(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
                             capture_output=True, text=True, cwd=ROOT, timeout=60, env=env)
        self.assertEqual(out.returncode, 0, out.stderr)
        return yaml.safe_load(out.stdout)["services"]["emulator"]

    def test_environment_in_docker_compose(self):
        if not shutil.which("docker-compose"):
            self.skipTest("no docker-compose")
        env = {k: v for k, v in os.environ.items() if k not in self.PASSED + ("HAAS_HOST_PORT_443",)}
        emu = self.docker_compose_env(env)
        # null: docker-compose sends the bare name, which the engine leaves unset
        self.assertEqual(emu["environment"], {"HAAS_API_TOKEN": None, "HAAS_PUBLIC_URL": None})
        self.assertIn({"published": 443, "target": 443}, emu["ports"])
        emu = self.docker_compose_env(dict(env, HAAS_API_TOKEN="t0ken", HAAS_HOST_PORT_443="1443"))
        self.assertEqual(emu["environment"], {"HAAS_API_TOKEN": "t0ken", "HAAS_PUBLIC_URL": None})
        self.assertIn({"published": 1443, "target": 443}, emu["ports"])

    def test_environment_in_podman_compose(self):
        """Debian's podman-compose 1.0.3 (the module; no podman needed): its
        own substitution and the `podman run -e` arguments it would pass."""
        try:
            import podman_compose
        except ImportError:
            self.skipTest("podman-compose not installed")
        # why not ${HAAS_API_TOKEN:-}: 1.0.3 leaves an empty default as it is
        self.assertEqual(podman_compose.rec_subs("${HAAS_API_TOKEN:-}", {}), "${HAAS_API_TOKEN:-}")

        def podman_args(environ):
            with open(os.path.join(ROOT, "docker-compose.yml")) as f:
                content = podman_compose.rec_subs(podman_compose.normalize(yaml.safe_load(f)), environ)
            emu = content["services"]["emulator"]
            return sorted(podman_compose.norm_as_list(emu.get("environment", {}))), emu["ports"]

        env, ports = podman_args({})
        # `podman run -e NAME` takes NAME from podman-compose's environment, or leaves it unset
        self.assertEqual(env, sorted(self.PASSED))
        self.assertIn("443:443", ports)
        self.assertFalse([p for p in ports if "$" in p], ports)
        env, ports = podman_args({"HAAS_API_TOKEN": "t0ken", "HAAS_HOST_PORT_443": "1443"})
        self.assertEqual(env, sorted(self.PASSED))
        self.assertIn("1443:443", ports)
