"""Power-loss safety of an install (docs/howto-sdk-port.md section 3): the simulator is
killed at many points of an upgrade (download, extraction, swap, first boot
of the new app) and each time, after a restart, the app folder holds either
the complete old app or the complete new app: never a mix, never nothing.

The kill points are exact: haas-device's Linux port counts every durable
step (file write, fsync, rename, remove, mkdir) and, with HAAS_CRASH_AT=n,
dies by SIGKILL in the middle of step n (a write is torn in half). A first,
uninterrupted run with HAAS_CRASH_TRACE lists the steps of a whole upgrade.
"""
import os
import signal

from harness import APP_ID, OUT, wait_for
from sim_device import read_app, write_app
from test_device_e2e import DeviceTest

OLD_FILES = {"main.py": "print('old app')\n", "lib/util.py": "OLD = True\n", "res/old.txt": "old\n" * 100}
NEW_FILES = dict({"main.py": "print('new app')\n", "lib/util.py": "NEW = True\n",
                  "res/blob.bin": os.urandom(48 * 1024)},
                 **{"lib/m%02d.py" % i: "X = %d\n" % i for i in range(12)})
MIN_POINTS = 50


def phase_of(op, path):
    if "package.tar.gz" in path:
        return "download"
    if "/.haas/new" in path and op != "rename":
        return "extraction"
    if op == "rename" and ("/.haas/new" in path or "/.haas/old" in path or path.endswith("/data/pyamp")):
        return "swap"
    return "journal"


class PowerCutTest(DeviceTest):
    def expected_apps(self):
        old_dir, new_dir = (os.path.join(OUT, "power-cut", n) for n in ("old", "new"))
        write_app(old_dir, "0.0.1", OLD_FILES)
        write_app(new_dir, "0.0.2", NEW_FILES)
        return read_app(old_dir), read_app(new_dir)

    def run_until_killed(self, d, tid, env, expect_kill):
        self.emu.post("/api/v1/tasks/%s/push" % tid)  # the device is offline: it asks on connect
        d.start(["--no-python", "--exit-after-result"], env=env)
        rc = d.wait_exit(timeout=60)
        if expect_kill:
            self.assertEqual(rc, -signal.SIGKILL, "the device was not killed:\n" + d.read_log()[-2000:])
        else:
            self.assertEqual(rc, 0, d.read_log()[-2000:])
        d.check_sanitizers()
        wait_for(lambda: self.device_json(d.dn)["status"] != "online", what="device offline")

    def test_install_survives_power_cuts_at_every_step(self):
        old, new = self.expected_apps()
        d = self.new_device("core2-power", "0.0.1", OLD_FILES)
        self.devices.remove(d)  # this test starts and stops it itself
        self.upload("0.0.2", NEW_FILES)
        tid = self.task_for(d.dn, "0.0.2")

        # 1. one whole upgrade, listing its durable steps
        trace = os.path.join(OUT, "power-cut", "trace.txt")
        if os.path.exists(trace):
            os.remove(trace)
        self.run_until_killed(d, tid, {"HAAS_CRASH_TRACE": trace}, expect_kill=False)
        self.assertEqual(read_app(d.app_dir), new)
        with open(trace) as f:
            steps = [line.split(" ", 2) for line in f.read().splitlines()]
        phases = {}
        for n, op, path in steps:
            phases.setdefault(phase_of(op, path), []).append(int(n))
        self.assertGreaterEqual(len(steps), MIN_POINTS, steps)
        for phase in ("download", "extraction", "swap", "journal"):
            self.assertIn(phase, phases)

        # 2. cut the power at each step, restart, check the invariant
        outcomes = {"old": 0, "new": 0}
        for n in range(1, len(steps) + 1):
            with self.subTest(step=n, op=steps[n - 1][1], path=steps[n - 1][2]):
                d.install("0.0.1", OLD_FILES)
                self.run_until_killed(d, tid, {"HAAS_CRASH_AT": str(n)}, expect_kill=True)
                version = d.boot_only()
                files = read_app(d.app_dir)
                if version == "0.0.1":
                    self.assertEqual(files, old)
                    outcomes["old"] += 1
                else:
                    self.assertEqual(version, "0.0.2")
                    self.assertEqual(files, new)
                    outcomes["new"] += 1
        self.assertGreater(outcomes["old"], 0)
        self.assertGreater(outcomes["new"], 0)
        print("\n    power cut at %d steps (%s): restarted into old %d times, new %d times" %
              (len(steps), ", ".join("%s %d" % (k, len(v)) for k, v in sorted(phases.items())),
               outcomes["old"], outcomes["new"]))

        # 3. after a cut, the upgrade is finished (or cleanly undone) by the next run
        d.install("0.0.1", OLD_FILES)
        cut = phases["extraction"][len(phases["extraction"]) // 2]
        self.run_until_killed(d, tid, {"HAAS_CRASH_AT": str(cut)}, expect_kill=True)
        self.emu.post("/api/v1/tasks/%s/push" % tid)
        d.start(["--no-python", "--exit-after-result"])
        self.assertEqual(d.wait_exit(timeout=60), 0, d.read_log()[-2000:])
        self.assertEqual(read_app(d.app_dir), new)
        self.assertEqual(os.listdir(os.path.join(d.root, "data", ".haas")), [])
        self.assertIn({"appId": APP_ID, "version": "0.0.2"}, self.device_json(d.dn)["apps"])
