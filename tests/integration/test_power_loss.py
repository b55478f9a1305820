"""A power-loss model of the device's flash, in the way SQLite's crash-test
VFS works, over every durable step of two app installs (one confirmed, one
rolled back: its new app fails) and two firmware slot updates (the same).

test_power_cut.py kills the simulator at each durable step; the kernel then
still holds every write that was not fsynced, so what a real power loss
drops is never seen. Here the POSIX port records every change of the file
system and every sync while one whole upgrade runs (HAAS_FS_LOG: create,
trunc, write with its bytes, fsync of a file, dirsync of a folder, rename,
unlink, mkdir, rmtree, and a "step" line before each durable step). The
model replays that log on a copy of the flash as it was before the run:

  - a file's content is durable once the file is fsynced; a folder's
    entries (creations, renames in or out, removals) once the folder is
    fsynced (a rename is one atomic event: syncing either folder of a
    rename makes all of it durable, as a journaling file system does);
  - at a cut in step N (the crash happens inside it, so none of its syncs
    completed) every change not durable yet is pending, and the on-disk
    states a power loss could leave are built from it: all pending lost,
    all kept, a prefix of the pending changes in order (the last write of
    the prefix possibly torn), and random subsets: renames and other folder
    changes reordered as the file system may, each file's writes kept up to
    a random point;
  - each distinct state is written into a fresh folder and the device is
    restarted on it (haas-device --boot-only: the SDK's boot recovery).

Every state must boot into the complete old or the complete new app (and,
for firmware, an intact slot with the old or the new image), never a mix
or nothing, and the journal must not lie: PENDING or a 200 result only with
the new app, a 404/405 result, DOWNLOADING or EXTRACTING only with the old
one, no SWAPPING or ROLLING_BACK left after a boot, and no journal with the
new app before the result was sent. The number of states and the mix are
printed. A last test plants a bug (HAAS_TEST_UNSAFE_RENAME=1: the port's
rename no longer fsyncs the folders) and expects the model to find states
that fail.
"""
import concurrent.futures
import hashlib
import os
import random
import shutil
import subprocess
import unittest

from harness import OUT, ForeignBroker, free_ports
from sim_device import DEVICE, SANITIZER_MARKS, SimDevice, read_app, write_app
from test_device_e2e import DeviceTest
from test_firmware_device import Pusher, RangeServer, image, inform_of

OLD_FILES = {"main.py": "print('old app')\n", "lib/util.py": "OLD = True\n", "res/old.txt": "old\n" * 100}
NEW_FILES = dict({"main.py": "print('new app')\n", "lib/util.py": "NEW = True\n",
                  "res/blob.bin": bytes(range(256)) * 96},
                 **{"lib/m%02d.py" % i: "X = %d\n" % i * (i + 1) for i in range(40)})
JOURNAL_STATES = ["NONE", "DOWNLOADING", "EXTRACTING", "SWAPPING", "PENDING", "ROLLING_BACK", "REPORT"]
MIN_STATES = 1000
PER_STEP_SUBSETS = 8


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

class Inode:
    def __init__(self, kind, data=b""):
        self.kind = kind                 # "f" or "d"
        self.data = bytearray(data)      # current content (files)
        self.durable = bytes(data)       # content at the last fsync
        self.entries = {}                # current names -> inode (folders)
        self.dentries = {}               # names at the last folder fsync


class Model:
    """The flash as the log changes it: current and durable state, and the
    changes not durable yet (pending), in order."""

    def __init__(self, root):
        self.nodes = [Inode("d")]
        self.pending = []  # ("data", ino, ("write", off, bytes) | ("trunc",)) or ("ns", [(dir, name, ino|None)])
        self._load(root, 0)

    def _new(self, kind, data=b""):
        self.nodes.append(Inode(kind, data))
        return len(self.nodes) - 1

    def _load(self, path, ino):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if os.path.isdir(full):
                child = self._new("d")
                self._load(full, child)
            else:
                with open(full, "rb") as f:
                    child = self._new("f", f.read())
            self.nodes[ino].entries[name] = self.nodes[ino].dentries[name] = child

    def lookup(self, path):
        ino = 0
        for part in [p for p in path.split("/") if p]:
            ino = self.nodes[ino].entries[part]
        return ino

    def parent(self, path):
        head, name = path.rstrip("/").rsplit("/", 1)
        return self.lookup(head or "/"), name

    def ns(self, effects):
        for d, name, child in effects:
            if child is None:
                self.nodes[d].entries.pop(name, None)
            else:
                self.nodes[d].entries[name] = child
        self.pending.append(("ns", effects))

    def apply(self, line, syncs=True):
        """One log line; syncs=False records a sync without making anything
        durable (the step the power cut interrupts)."""
        op, rest = line.split(" ", 1)
        if op == "step":
            return
        if op == "write":
            path, off, hexdata = rest.split(" ")
            ino, off, data = self.lookup(path), int(off), bytes.fromhex(hexdata)
            buf = self.nodes[ino].data
            if len(buf) < off:
                buf.extend(b"\0" * (off - len(buf)))
            buf[off:off + len(data)] = data
            self.pending.append(("data", ino, ("write", off, data)))
        elif op == "create":
            d, name = self.parent(rest)
            self.ns([(d, name, self._new("f"))])
        elif op == "mkdir":
            d, name = self.parent(rest)
            self.ns([(d, name, self._new("d"))])
        elif op == "trunc":
            ino = self.lookup(rest)
            self.nodes[ino].data = bytearray()
            self.pending.append(("data", ino, ("trunc",)))
        elif op == "open":
            pass
        elif op in ("unlink", "rmtree"):
            d, name = self.parent(rest)
            self.ns([(d, name, None)])
        elif op == "rename":
            a, b = rest.split(" ")
            (sd, sn), (dd, dn) = self.parent(a), self.parent(b)
            ino = self.nodes[sd].entries[sn]
            self.ns([(sd, sn, None), (dd, dn, ino)])
        elif op == "fsync" and syncs:
            ino = self.lookup(rest)
            keep = []
            for ev in self.pending:
                if ev[0] == "data" and ev[1] == ino:
                    self.nodes[ino].durable = apply_data(self.nodes[ino].durable, ev[2])
                else:
                    keep.append(ev)
            self.pending = keep
        elif op == "dirsync" and syncs:
            d = self.lookup(rest)
            keep = []
            for ev in self.pending:
                if ev[0] == "ns" and any(e[0] == d for e in ev[1]):
                    for dd, name, child in ev[1]:
                        if child is None:
                            self.nodes[dd].dentries.pop(name, None)
                        else:
                            self.nodes[dd].dentries[name] = child
                else:
                    keep.append(ev)
            self.pending = keep
        elif op not in ("fsync", "dirsync"):
            raise AssertionError("unknown log line: %s" % line[:200])

    def crash_state(self, chosen, torn=None):
        """The tree a power loss leaves: the durable state plus the pending
        changes in chosen (indexes, applied in order); torn: (index, bytes
        kept) of a write cut short. {path: bytes, or None for a folder}."""
        data = {}
        entries = {}
        for i in sorted(chosen):
            ev = self.pending[i]
            if ev[0] == "data":
                ino = ev[1]
                op = ev[2]
                if torn and torn[0] == i:
                    op = ("write", op[1], op[2][:torn[1]])
                data[ino] = apply_data(data.get(ino, self.nodes[ino].durable), op)
            else:
                for d, name, child in ev[1]:
                    ents = entries.setdefault(d, dict(self.nodes[d].dentries))
                    if child is None:
                        ents.pop(name, None)
                    else:
                        ents[name] = child
        tree, seen = {}, set()

        def walk(ino, path):
            if ino in seen:
                return
            seen.add(ino)
            for name, child in sorted(entries.get(ino, self.nodes[ino].dentries).items()):
                p = path + "/" + name
                if self.nodes[child].kind == "d":
                    tree[p] = None
                    walk(child, p)
                else:
                    tree[p] = bytes(data.get(child, self.nodes[child].durable))
        walk(0, "")
        return tree


def apply_data(content, op):
    content = bytearray(content)
    if op[0] == "trunc":
        return bytes()
    off, data = op[1], op[2]
    if len(content) < off:
        content.extend(b"\0" * (off - len(content)))
    content[off:off + len(data)] = data
    return bytes(content)


def crash_states(model, rng):
    """The distinct states a cut now can leave (see the module's text): all
    pending changes lost; all kept; every prefix of them in order; every
    pending write torn at a quarter, half and three quarters (with the
    changes before it); PER_STEP_SUBSETS random subsets."""
    n = len(model.pending)
    choices = [(set(), None), (set(range(n)), None)]
    for j in range(1, n):
        choices.append((set(range(j)), None))
    for i, ev in enumerate(model.pending):
        if ev[0] == "data" and ev[2][0] == "write" and len(ev[2][2]) > 1:
            for frac in (0.25, 0.5, 0.75):
                choices.append((set(range(i + 1)), (i, max(1, int(len(ev[2][2]) * frac)))))
    for _ in range(PER_STEP_SUBSETS if n > 1 else 0):
        cut_of = {}
        chosen = set()
        for i, ev in enumerate(model.pending):
            if ev[0] == "ns":
                if rng.random() < 0.5:
                    chosen.add(i)
            else:  # each file's writes up to a random point, in order
                ino = ev[1]
                if ino not in cut_of:
                    cut_of[ino] = rng.random() < 0.5
                if cut_of[ino] and rng.random() < 0.7:
                    chosen.add(i)
                else:
                    cut_of[ino] = False
        choices.append((chosen, None))
    out, seen = [], set()
    for chosen, torn in choices:
        tree = model.crash_state(chosen, torn)
        key = hashlib.sha256(repr(sorted(tree.items())).encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            out.append(tree)
    return out


def states_by_step(log_path, snapshot, seed):
    """[(step number, step line, [trees])] for a cut in each durable step."""
    with open(log_path) as f:
        lines = f.read().splitlines()
    model, rng = Model(snapshot), random.Random(seed)
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("step "):
            model.apply(lines[i])
            i += 1
            continue
        step = lines[i]
        j = i + 1
        while j < len(lines) and not lines[j].startswith("step "):
            j += 1
        body = lines[i + 1:j]
        for line in body:  # the cut comes inside this step: no sync of it completes
            model.apply(line, syncs=False)
        out.append((int(step.split()[1]), step, crash_states(model, rng)))
        delayed = [line for line in body if line.split(" ", 1)[0] in ("fsync", "dirsync")]
        for line in delayed:
            model.apply(line)
        i = j
    return out


def materialize(tree, root):
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    for path, content in sorted(tree.items()):
        full = root + path
        if content is None:
            os.makedirs(full, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(content)


# The crash states boot with the optimised build: a thousand ASan start-ups
# would take minutes (the recorded runs use the sanitizer build, and
# test_power_cut.py boots after every cut with it).
BOOT_DEVICE = os.environ.get("HAAS_DEVICE_PLAIN", os.path.join(os.path.dirname(os.path.dirname(DEVICE)),
                                                               "haas-device")
                             if os.path.basename(os.path.dirname(DEVICE)) == "asan" else DEVICE)


def boot_only(root):
    r = subprocess.run([BOOT_DEVICE, "--root", root, "--boot-only"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or any(m in r.stdout + r.stderr for m in SANITIZER_MARKS):
        raise AssertionError("boot-only failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr[-3000:]))
    app = [line for line in r.stdout.splitlines() if line.startswith("app ")][-1].split()
    fw = [line for line in r.stdout.splitlines() if line.startswith("firmware ")][-1].split()
    return app[2], fw[1], int(fw[3])


def read_journal(root):
    path = os.path.join(root, "data", ".haas", "journal")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        fields = dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
    if fields.get("end") != "1":
        return None
    return JOURNAL_STATES[int(fields["state"])], int(fields.get("code", "0"))


def run_states(steps, name, check, until_failure=False):
    """Materializes every state, boots it, runs check(root, step, line) ->
    outcome word or raises. Returns (count, {outcome: n}, [failures]);
    until_failure: stops after the batch where the first failure showed."""
    work = os.path.join(OUT, "power-loss", name)
    jobs = [(n, line, k, tree) for n, line, trees in steps for k, tree in enumerate(trees)]

    def one(job):
        n, line, k, tree = job
        root = os.path.join(work, "s%d-%d" % (n, k))
        materialize(tree, root)
        try:
            outcome = check(root, n, line)
            shutil.rmtree(root)
            return outcome, None
        except AssertionError as e:
            return None, "%s (state %d): %s [kept in %s]" % (line, k, str(e)[:300], root)

    mix, failures, done = {}, [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for start in range(0, len(jobs), 64):
            for outcome, failure in pool.map(one, jobs[start:start + 64]):
                done += 1
                if failure:
                    failures.append(failure)
                else:
                    mix[outcome] = mix.get(outcome, 0) + 1
            if until_failure and failures:
                break
    return done, mix, failures


# ---------------------------------------------------------------------------
# An app install
# ---------------------------------------------------------------------------

class AppPowerLossTest(DeviceTest):
    def expected(self, version="0.0.2", files=NEW_FILES):
        old_dir, new_dir = (os.path.join(OUT, "power-loss", n) for n in ("old", "new-" + version))
        write_app(old_dir, "0.0.1", OLD_FILES)
        write_app(new_dir, version, files)
        return read_app(old_dir), read_app(new_dir)

    def logged_install(self, dn, env, version="0.0.2", files=NEW_FILES, args=("--no-python",)):
        """One whole install with HAAS_FS_LOG: (log, snapshot of the flash
        before it)."""
        d = self.new_device(dn, "0.0.1", OLD_FILES)
        self.devices.remove(d)
        uploaded = type(self).__dict__.get("uploaded", set())
        if version not in uploaded:  # once for the class's emulator
            self.upload(version, files)
            type(self).uploaded = uploaded | {version}
        tid = self.task_for(d.dn, version)
        snapshot = os.path.join(OUT, "power-loss", dn + "-before")
        if os.path.exists(snapshot):
            shutil.rmtree(snapshot)
        shutil.copytree(d.root, snapshot, symlinks=True)
        log = os.path.join(OUT, "power-loss", dn + "-fs.log")
        if os.path.exists(log):
            os.remove(log)
        self.emu.post("/api/v1/tasks/%s/push" % tid)  # offline: the device asks on connect
        d.start(list(args) + ["--exit-after-result"], env=dict(env, HAAS_FS_LOG=log))
        self.assertEqual(d.wait_exit(timeout=90), 0, d.read_log()[-3000:])
        d.check_sanitizers()
        return d, log, snapshot

    def app_check(self, old, new, result_step, new_version="0.0.2"):
        def check(root, n, line):
            version, _, _ = boot_only(root)
            files = read_app(os.path.join(root, "data", "pyamp"))
            if files == old:
                app = "old"
            elif files == new:
                app = "new"
            else:
                raise AssertionError("the app folder is neither the old nor the new app: %s (version %s)" %
                                     (sorted(files), version))
            if version != {"old": "0.0.1", "new": new_version}[app]:
                raise AssertionError("the SDK reports %s over the %s app" % (version, app))
            j = read_journal(root)
            state, code = j if j else ("NONE", 0)
            if state in ("SWAPPING", "ROLLING_BACK"):
                raise AssertionError("journal %s left after a boot" % state)
            want = "new" if state == "PENDING" or (state == "REPORT" and code == 200) else \
                "old" if state in ("DOWNLOADING", "EXTRACTING", "REPORT") else None
            if state == "NONE" and n < result_step:
                want = "old"  # no journal with the new app before its result was sent
            if want and want != app:
                raise AssertionError("the journal lies: %s %s with the %s app" % (state, code or "", app))
            return "%s app, journal %s" % (app, state if state != "REPORT" else "REPORT %d" % code)
        return check

    def test_app_install_survives_power_loss(self):
        old, new = self.expected()
        d, log, snapshot = self.logged_install("core2-loss", {})
        self.assertEqual(read_app(d.app_dir), new)
        steps = states_by_step(log, snapshot, seed=15)
        result_step = max(n for n, line, _ in steps if line.endswith("remove_file /data/.haas/journal"))
        count, mix, failures = run_states(steps, "app", self.app_check(old, new, result_step))
        print("\n    power loss, app install: %d durable steps, %d crash states; %s" %
              (len(steps), count, ", ".join("%s %d" % kv for kv in sorted(mix.items()))))
        self.assertEqual(failures, [], "\n".join(failures[:10]))
        self.assertGreater(sum(v for k, v in mix.items() if k.startswith("old")), 0)
        self.assertGreater(sum(v for k, v in mix.items() if k.startswith("new")), 0)
        AppPowerLossTest.app_states = getattr(AppPowerLossTest, "app_states", 0) + count

    def test_app_rollback_survives_power_loss(self):
        """A new app that fails when it starts (main.py exits 3 under
        python3): installed, rejected, rolled back, 405."""
        bad = dict(NEW_FILES, **{"main.py": "raise SystemExit(3)\n"})
        old, new = self.expected("0.0.3", bad)
        d, log, snapshot = self.logged_install("core2-loss-rb", {}, "0.0.3", bad, args=())
        self.assertEqual(read_app(d.app_dir), old)
        self.assertIn("405", d.read_log())
        steps = states_by_step(log, snapshot, seed=17)
        result_step = max(n for n, line, _ in steps if line.endswith("remove_file /data/.haas/journal"))
        count, mix, failures = run_states(steps, "app-rollback", self.app_check(old, new, result_step, "0.0.3"))
        print("\n    power loss, app install rolled back: %d durable steps, %d crash states; %s" %
              (len(steps), count, ", ".join("%s %d" % kv for kv in sorted(mix.items()))))
        self.assertEqual(failures, [], "\n".join(failures[:10]))
        self.assertGreater(sum(v for k, v in mix.items() if k.startswith("new")), 0)
        AppPowerLossTest.app_states = getattr(AppPowerLossTest, "app_states", 0) + count

    def test_planted_missing_folder_fsync_is_found(self):
        """The port's rename without its folder fsyncs (a test-only switch):
        the model must find states that boot into a mix, nothing, or a lying
        journal."""
        old, new = self.expected()
        d, log, snapshot = self.logged_install("core2-loss-bug", {"HAAS_TEST_UNSAFE_RENAME": "1"})
        self.assertIn("HAAS_TEST_UNSAFE_RENAME=1", d.read_log())
        steps = states_by_step(log, snapshot, seed=15)
        result_step = max(n for n, line, _ in steps if line.endswith("remove_file /data/.haas/journal"))
        count, mix, failures = run_states(steps, "app-planted", self.app_check(old, new, result_step),
                                          until_failure=True)
        print("\n    power loss with the planted bug: %d crash states booted, %d fail (e.g. %s)" %
              (count, len(failures), failures[0].split(" [kept")[0] if failures else "-"))
        self.assertGreater(len(failures), 0, "the model did not see the missing folder fsync")


# ---------------------------------------------------------------------------
# A firmware slot update
# ---------------------------------------------------------------------------

class FirmwarePowerLossTest(unittest.TestCase):
    SIZE = 160 * 1024 + 5
    OLD, NEW = "1.0.0", "1.0.1"

    @classmethod
    def setUpClass(cls):
        mqtt_port, http_port = free_ports(2)
        cls.broker = ForeignBroker(mqtt_port)
        cls.body = image(cls.SIZE, "power-loss")
        cls.http = RangeServer(http_port, cls.body)
        cls.pusher = Pusher(mqtt_port)
        cls.fpk, cls.fdn = "a1PowerLoss", "core2-fw-loss"
        cls.data = {"size": len(cls.body), "version": cls.NEW, "url": "http://127.0.0.1/fw/x.bin?Expires=1",
                    "md5": hashlib.md5(cls.body).hexdigest(), "sign": hashlib.sha256(cls.body).hexdigest(),
                    "signMethod": "SHA256", "module": "default"}
        cls.dev = SimDevice("fw-power-loss", None, cls.fpk, cls.fdn, "x" * 32, broker="127.0.0.1:%d" % mqtt_port)
        cls.args = ["--no-python", "--exit-after-result", "--firmware-version", cls.OLD, "--fw-download-port",
                    str(http_port)]

    @classmethod
    def tearDownClass(cls):
        cls.pusher.close()
        cls.http.stop()
        cls.broker.stop()

    def logged_update(self, extra, name):
        """One whole firmware update with HAAS_FS_LOG: (log, snapshot of the
        flash before it)."""
        d = self.dev
        if os.path.exists(d.root):
            shutil.rmtree(d.root)
        d.install("0.0.1", OLD_FILES)
        snapshot = os.path.join(OUT, "power-loss", "fw-%s-before" % name)
        if os.path.exists(snapshot):
            shutil.rmtree(snapshot)
        shutil.copytree(d.root, snapshot)
        log = os.path.join(OUT, "power-loss", "fw-%s-fs.log" % name)
        if os.path.exists(log):
            os.remove(log)
        self.pusher.drain()
        d.start(self.args + list(extra), env={"HAAS_FS_LOG": log})
        alive = lambda: d.proc.poll() is None  # noqa: E731
        self.assertTrue(self.pusher.wait(inform_of(self.OLD), "inform of the old firmware", timeout=30, alive=alive))
        self.pusher.push(self.fpk, self.fdn, self.data)
        self.assertEqual(d.wait_exit(timeout=90), 0, d.read_log()[-3000:])
        d.check_sanitizers()
        self.assertEqual(d.fw_slot_image(1, self.SIZE), self.body)
        return log, snapshot

    def check(self, old_app):
        def check(root, n, line):
            app_version, version, slot = boot_only(root)
            if version == self.NEW:
                with open(os.path.join(root, "data", ".fw", "slot%d" % slot), "rb") as f:
                    f.seek(256)
                    if f.read(self.SIZE + 1) != self.body:
                        raise AssertionError("firmware %s boots from slot %d without its whole image" %
                                             (version, slot))
            elif version != self.OLD or slot != 0:
                raise AssertionError("boots firmware %s from slot %d" % (version, slot))
            if read_app(os.path.join(root, "data", "pyamp")) != old_app or app_version != "0.0.1":
                raise AssertionError("the app changed during a firmware update")
            return "firmware %s" % ("new" if version == self.NEW else "old")
        return check

    def test_firmware_update_survives_power_loss(self):
        """An update that confirms, and one whose image crashes on every
        start until it is rolled back (its boots counted, the rollback)."""
        total, mixes = 0, {}
        for name, extra in (("upgrade", []), ("rollback", ["--fw-confirm", "crash", "--fw-max-boots", "2"])):
            log, snapshot = self.logged_update(extra, name)
            old_app = read_app(os.path.join(snapshot, "data", "pyamp"))
            steps = states_by_step(log, snapshot, seed=16)
            count, mix, failures = run_states(steps, "fw-" + name, self.check(old_app))
            print("\n    power loss, firmware slot update (%s): %d durable steps, %d crash states; %s" %
                  (name, len(steps), count, ", ".join("%s %d" % kv for kv in sorted(mix.items()))))
            self.assertEqual(failures, [], "\n".join(failures[:10]))
            self.assertGreater(mix.get("firmware old", 0), 0)
            self.assertGreater(mix.get("firmware new", 0), 0)
            total += count
        app_states = getattr(AppPowerLossTest, "app_states", 0)
        if app_states:
            print("    power loss, in all: %d crash states (app installs %d, firmware %d)" %
                  (total + app_states, app_states, total))
            self.assertGreaterEqual(total + app_states, MIN_STATES)
