"""The container image, built and measured where a container engine runs
(podman or docker, whichever answers `info` first): under 150 MB, run as a
user that is not root, its programs start with the runtime libraries it
carries. Without an engine the class is skipped with one line saying so;
tests/integration/test_ship.py checks the Dockerfile's stages as text either
way.

HAAS_IMAGE_BUILD_TIMEOUT bounds the build (seconds, 900 by default: a first
build downloads Debian's compilers; later ones reuse the engine's cache)."""
import os
import shutil
import subprocess
import unittest

from harness import ROOT

ENGINES = ("podman", "docker")
LIMIT_MB = 150
NO_ENGINE = "no container engine here (podman or docker): image size not measured"
BUILD_TIMEOUT = int(os.environ.get("HAAS_IMAGE_BUILD_TIMEOUT", "900"))
TAG = "localhost/haas-emu:test-image"


def find_engine():
    """The first of ENGINES whose `info` succeeds (its service is reachable)."""
    for engine in ENGINES:
        if not shutil.which(engine):
            continue
        try:
            if subprocess.run([engine, "info"], capture_output=True, timeout=60).returncode == 0:
                return engine
        except subprocess.TimeoutExpired:
            pass
    return None


class ImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = find_engine()
        if not cls.engine:
            # one line here, then each test skips (tests/run.py counts tests
            # that ran; a class skipped in setUpClass would count as -1)
            print("  skip  test_image.ImageTest: " + NO_ENGINE, flush=True)
            return
        # podman builds OCI images by default, which have no HEALTHCHECK
        fmt = ["--format", "docker"] if cls.engine == "podman" else []
        try:
            build = subprocess.run([cls.engine, "build"] + fmt + ["-t", TAG, "-f", os.path.join(ROOT, "Dockerfile"),
                                                                  ROOT],
                                   capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s build took longer than %d s (HAAS_IMAGE_BUILD_TIMEOUT)"
                                 % (cls.engine, BUILD_TIMEOUT))
        if build.returncode != 0:
            raise AssertionError("%s build failed:\n%s" % (cls.engine, (build.stdout + build.stderr)[-4000:]))
        size, user = cls.inspect("{{.Size}}"), cls.inspect("{{.Config.User}}")
        cls.size, cls.user = int(size), user
        print("  image %s (%s): %.1f MB, user %s" % (TAG, cls.engine, cls.size / 1e6, cls.user or "root"),
              flush=True)

    def setUp(self):
        if not self.engine:
            self.skipTest(NO_ENGINE)

    @classmethod
    def tearDownClass(cls):
        if cls.engine:
            subprocess.run([cls.engine, "rmi", TAG], capture_output=True, timeout=120)

    @classmethod
    def inspect(cls, field):
        r = subprocess.run([cls.engine, "image", "inspect", "--format", field, TAG], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("%s image inspect: %s" % (cls.engine, r.stderr))
        return r.stdout.strip()

    def run_in_image(self, *command, entrypoint):
        return subprocess.run([self.engine, "run", "--rm", "--entrypoint", entrypoint, TAG] + list(command),
                              capture_output=True, text=True, timeout=120)

    def test_size(self):
        self.assertLess(self.size, LIMIT_MB * 1000 * 1000,
                        "the image is %.1f MB; the runtime stage should carry only "
                        "server/debian-runtime-packages.txt and the build outputs" % (self.size / 1e6))

    def test_runs_as_a_user_that_is_not_root(self):
        self.assertNotIn(self.user.split(":")[0], ("", "root", "0"), "Config.User is %r" % self.user)
        r = self.run_in_image("-u", entrypoint="id")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(r.stdout.strip(), "0")

    def test_programs_start(self):
        """The runtime libraries are all there: each program gets as far as
        its usage text."""
        for program in ("/opt/haas-emu/build/haas-emu", "/opt/haas-emu/build/haas-device"):
            r = self.run_in_image("--help", entrypoint=program)
            self.assertEqual(r.returncode, 0, "%s --help: %s" % (program, r.stdout + r.stderr))
        r = self.run_in_image("-h", entrypoint="/usr/sbin/mosquitto")
        self.assertIn("mosquitto version", r.stdout + r.stderr)
