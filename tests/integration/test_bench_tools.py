"""The benchmarks still run: `make bench` and `make bench-100k` are not part
of `make test`, so without these a change to haas-emu, its API or the load
tools could break them unseen until someone wants numbers.

Each driver runs here with a handful of devices, which takes every C load
tool through a whole run against a real haas-emu and the real floors (plain
mosquitto, nginx): bench_push.py drives mqtt_fleet (devices and floor
modes), bench_fleet.py drives haas-device fleets and fleet_floor,
bench_100k.py drives mqtt_swarm (Link SDK C logins, pushes, the API pages).
The drivers assert every round's counts themselves (each device got its
push exactly once, every result arrived) and exit non-zero when one is
wrong; these tests check the exit status, that each printed the goal lines
it exists for, and that bench_100k left nothing behind (issue 14: "cleans up
after itself"). Timings and ratios are not checked: that is make bench.
"""
import glob
import os
import subprocess
import tempfile
import unittest

from harness import ROOT

BENCH = os.path.join(ROOT, "tests", "bench")
TOOLS = os.path.join(ROOT, "build", "bench")
PYTHON = "/usr/bin/python3"


def run_driver(script, *args, timeout=300):
    """Runs tests/bench/<script> with args as `make bench` does (the release
    builds, not the sanitizer builds tests/run.py names in the environment);
    returns (exit status, stdout + stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("HAAS_EMU", "HAAS_AUTH_SO", "HAAS_DEVICE")}
    proc = subprocess.run([PYTHON, os.path.join(BENCH, script)] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def processes_running(path):
    """Pids of the processes whose executable is path."""
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink("/proc/%s/exe" % pid) == path:
                    pids.append(int(pid))
            except OSError:
                pass
    return pids


class BenchDriversTest(unittest.TestCase):
    def test_push_bench_with_50_devices(self):
        rc, out = run_driver("bench_push.py", "50")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"\n +50 +\d+ .*\(goal <= 1\.3x\)")  # the push table's row
        self.assertIn("CONNECT rate, 50 devices", out)
        self.assertNotIn("Traceback", out)

    def test_fleet_bench_with_100_devices(self):
        rc, out = run_driver("bench_fleet.py", "--rounds", "1", "100")
        self.assertEqual(rc, 0, out)
        self.assertIn("ratio (<= 1.15x)", out)  # time, push to the last result
        self.assertIn("ratio (<= 1.5x)", out)   # server CPU per device upgrade
        self.assertRegex(out, r"\n +100 \| [0-9.]+ s \(.*\| [0-9.]+x (OK|ABOVE GOAL) +\| [0-9.]+ ms")
        self.assertNotIn("Traceback", out)

    def test_100k_bench_with_200_connected_cleans_up_after_itself(self):
        swarm = os.path.join(TOOLS, "mqtt_swarm")
        before = set(glob.glob(os.path.join(tempfile.gettempdir(), "haas-bench-100k-*")))
        rc, out = run_driver("bench_100k.py", "200")
        self.assertEqual(rc, 0, out)
        for goal in ("(goal >= 0.8x)", "(goal <= 1.2x)", "(goal < 256 MiB)", "(goal p99 < 50 ms)"):
            self.assertIn(goal, out)
        self.assertIn("200 Link SDK C logins", out)
        self.assertIn("100000 devices in haas-emu", out)
        self.assertIn("200 of them connected at once to each broker", out)
        self.assertRegex(out, r"a device's address +[0-9.]+ ms +[0-9.]+ ms")  # 5., the downloads
        after = set(glob.glob(os.path.join(tempfile.gettempdir(), "haas-bench-100k-*")))
        self.assertEqual(after - before, set(), "bench_100k left its work directory behind")
        self.assertEqual(processes_running(swarm), [], "an mqtt_swarm outlived bench_100k")


class BenchToolsRefuseBadInvocationsTest(unittest.TestCase):
    """A tool started wrongly says so in one "ERROR ..." line on stdout (what
    the drivers read) and exits with status 1; none of them starts work."""

    CASES = [
        ("mqtt_fleet", []),
        ("mqtt_fleet", ["bogus"]),
        ("mqtt_fleet", ["devices", "--port", "1883"]),                    # no --file
        ("mqtt_swarm", ["devices", "--port", "0", "--file", "/dev/null"]),
        ("mqtt_swarm", ["floor", "--port", "1883", "--file", "/dev/null", "--bogus", "1"]),
        ("fleet_floor", []),
        ("fleet_floor", ["--port", "1883", "--file", "x", "--app", "a"]),  # --from ... missing
        ("fleet_floor", ["--port"]),
    ]

    def test_each_bad_invocation_gets_one_error_line_and_status_1(self):
        for tool, args in self.CASES:
            with self.subTest(tool=tool, args=args):
                proc = subprocess.run([os.path.join(TOOLS, tool)] + args, stdin=subprocess.DEVNULL,
                                      capture_output=True, text=True, timeout=10)
                self.assertEqual(proc.returncode, 1, (proc.stdout, proc.stderr))
                self.assertTrue(proc.stdout.startswith("ERROR "), proc.stdout)
                self.assertIn("usage", proc.stdout)

    def test_a_missing_triples_file_is_named(self):
        proc = subprocess.run([os.path.join(TOOLS, "mqtt_swarm"), "devices", "--port", "1883", "--file",
                               "/nonexistent/triples.txt"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=10)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"^ERROR cannot open /nonexistent/triples.txt: ")


if __name__ == "__main__":
    unittest.main()
