#!/usr/bin/env python3
"""Runs every test suite of the project and ends with "N passed, N failed".

  1. C unit tests: each executable in build/tests/ (cmocka), counted from
     cmocka's own summary lines.
  2. Integration and end-to-end tests: tests/integration/test_*.py
     (unittest), against real processes on loopback; and the checks of the
     source tree in tests/lint/test_*.py (complexity budget, layers, format).
  3. Shell end-to-end scripts: tests/e2e/*.sh (exit status 0 passes).
  4. Browser tests of the console: tests/browser (node --test, TAP).
  5. Fuzz targets: build/fuzz/fuzz_* (libFuzzer) for a bounded time each.
  6. The SDK core's unit tests on qemu Cortex-M3/M4 (tests/mcu/run.py, the
     programs `make mcu-build` made), counted like the C unit tests.

Usage: tests/run.py [NAME...]  runs only suites/modules whose name contains
one of NAME. Output of every run goes to tests/out/.
"""
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def selected(name, filters):
    return not filters or any(f in name for f in filters)


def run_unit(filters):
    passed = failed = 0
    bindir = os.path.join(ROOT, "build", "tests")
    if not os.path.isdir(bindir):
        return 0, 0
    for name in sorted(os.listdir(bindir)):
        path = os.path.join(bindir, name)
        if not (name.startswith("test_") and os.access(path, os.X_OK)) or not selected(name, filters):
            continue
        proc = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        ok = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
        bad = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
        if proc.returncode != 0 and bad == 0:
            bad = 1  # crashed or failed without a cmocka summary
        passed += ok
        failed += bad
        print("unit %-32s %3d passed, %d failed" % (name, ok, bad), flush=True)
        if bad:
            print(out[-4000:], flush=True)
    return passed, failed


class CountingResult(unittest.TextTestResult):
    """Prints one line per test (ok, FAIL, ERROR, skip with its reason) and
    counts the successes itself: a class skipped in setUpClass adds a skip
    without running a test, so testsRun - failures - skips would go wrong."""
    passes = 0

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.stream.write("  skip  %s: %s\n" % (test.id(), reason))
        self.stream.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passes += 1
        self.stream.write("  ok    %-70s %.2fs\n" % (test.id(), time.monotonic() - self._t0))
        self.stream.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.stream.write("  FAIL  %s\n" % test.id())
        self.stream.flush()

    def addError(self, test, err):
        super().addError(test, err)
        self.stream.write("  ERROR %s\n" % test.id())
        self.stream.flush()


def run_integration(filters):
    """tests/integration/test_*.py (real processes) and tests/lint/test_*.py
    (checks of the source tree itself), as one unittest run."""
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for folder in ("integration", "lint"):
        path = os.path.join(ROOT, "tests", folder)
        if not os.path.isdir(path):
            continue
        if path not in sys.path:
            sys.path.insert(0, path)
        for name in sorted(os.listdir(path)):
            if name.startswith("test_") and name.endswith(".py") and selected(name, filters):
                suite.addTests(loader.loadTestsFromName(name[:-3]))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0, resultclass=CountingResult)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    return result.passes, failed


def run_scripts(filters):
    """tests/e2e/*.sh: each script is one test; exit status 0 passes."""
    passed = failed = 0
    folder = os.path.join(ROOT, "tests", "e2e")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".sh") or not selected(name, filters):
            continue
        t0 = time.monotonic()
        proc = subprocess.run(["sh", os.path.join(folder, name)], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        ok = proc.returncode == 0
        passed, failed = passed + ok, failed + (not ok)
        print("  %-5s e2e/%-62s %.2fs" % ("ok" if ok else "FAIL", name, time.monotonic() - t0), flush=True)
        if not ok:
            print((proc.stdout + proc.stderr)[-4000:], flush=True)
    return passed, failed


FUZZ_SECONDS = int(os.environ.get("HAAS_FUZZ_SECONDS", "15"))
FUZZ_EXTRA_SEEDS = {"fuzz_device_input": ["tests/corpus/tar"], "fuzz_package_check": ["tests/corpus/bad-packages"]}


def run_fuzz(filters):
    """build/fuzz/fuzz_*: each libFuzzer target runs for FUZZ_SECONDS from
    its seeds (tests/fuzz/seeds/<name> and any extra corpus); a crash, leak
    or sanitizer report fails it. New inputs it finds stay in tests/out."""
    passed = failed = 0
    bindir = os.path.join(ROOT, "build", "fuzz")
    for name in sorted(os.listdir(bindir)) if os.path.isdir(bindir) else []:
        if not name.startswith("fuzz_") or not selected(name, filters):
            continue
        work = os.path.join(ROOT, "tests", "out", "fuzz", name)
        os.makedirs(work, exist_ok=True)
        seeds = [os.path.join(ROOT, "tests", "fuzz", "seeds", name[len("fuzz_"):])]
        seeds += [os.path.join(ROOT, d) for d in FUZZ_EXTRA_SEEDS.get(name, [])]
        proc = subprocess.run([os.path.join(bindir, name), "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
                               "-rss_limit_mb=2048", "-artifact_prefix=" + work + "/", work] +
                              [d for d in seeds if os.path.isdir(d)], capture_output=True, text=True,
                              timeout=FUZZ_SECONDS + 120)
        runs = re.findall(r"Done (\d+) runs", proc.stderr)
        ok = proc.returncode == 0
        passed, failed = passed + ok, failed + (not ok)
        print("  %-5s fuzz/%-40s %s runs in %ds" % ("ok" if ok else "FAIL", name, runs[-1] if runs else "?",
                                                    FUZZ_SECONDS), flush=True)
        if not ok:
            print(proc.stderr[-4000:], flush=True)
    return passed, failed


def run_browser(filters):
    """tests/browser: the console in Debian's chromium, driven by
    playwright-core under Node's test runner; its TAP summary is counted."""
    folder = os.path.join(ROOT, "tests", "browser")
    if not os.path.isfile(os.path.join(folder, "package.json")) or not selected("browser", filters):
        return 0, 0
    if not shutil.which("node") or not shutil.which("npm"):
        print("  FAIL  browser tests: Node.js 20+ with npm is needed (node, npm not found)", flush=True)
        return 0, 1
    installed = os.path.join(folder, "node_modules", ".package-lock.json")
    lock = os.path.join(folder, "package-lock.json")
    if not os.path.exists(installed) or os.path.getmtime(installed) < os.path.getmtime(lock):
        npm = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True,
                             timeout=900)
        if npm.returncode != 0:
            print("  FAIL  browser tests: npm ci failed\n" + (npm.stdout + npm.stderr)[-3000:], flush=True)
            return 0, 1
    t0 = time.monotonic()
    proc = subprocess.run(["node", "--test", "--test-reporter=tap"], cwd=folder, capture_output=True, text=True,
                          timeout=1200)
    out = proc.stdout + proc.stderr
    ok = sum(int(n) for n in re.findall(r"^# pass (\d+)$", out, re.M))
    bad = sum(int(n) for n in re.findall(r"^# fail (\d+)$", out, re.M))
    if proc.returncode != 0 and bad == 0:
        bad = 1
    for verdict, name in re.findall(r"^(not ok|ok) \d+ - (.+)$", out, re.M):
        print("  %-5s browser/%s" % ("ok" if verdict == "ok" else "FAIL", name), flush=True)
    print("browser tests: %d passed, %d failed (%.1fs)" % (ok, bad, time.monotonic() - t0), flush=True)
    if bad:
        print(out[-6000:], flush=True)
    with open(os.path.join(ROOT, "tests", "out", "browser-tap.txt"), "w") as f:
        f.write(out)
    return ok, bad


def run_mcu(filters):
    """tests/mcu/run.py: the core's tests on emulated microcontrollers."""
    if filters and not any("mcu" in f or f in "mcu" for f in filters):
        return 0, 0
    if not os.path.isdir(os.path.join(ROOT, "build", "mcu")):
        print("  FAIL  mcu: nothing built (make mcu-build)", flush=True)
        return 0, 1
    import importlib.util
    spec = importlib.util.spec_from_file_location("mcu_run", os.path.join(ROOT, "tests", "mcu", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run_mcu((), log=lambda line: print(line, flush=True))


def main():
    filters = sys.argv[1:]
    # Integration tests load the sanitizer builds unless told otherwise.
    os.environ.setdefault("HAAS_EMU", os.path.join(ROOT, "build", "asan", "haas-emu"))
    os.environ.setdefault("HAAS_AUTH_SO", os.path.join(ROOT, "build", "asan", "haas_auth.so"))
    os.environ.setdefault("HAAS_DEVICE", os.path.join(ROOT, "build", "asan", "haas-device"))
    os.makedirs(os.path.join(ROOT, "tests", "out"), exist_ok=True)
    up, uf = run_unit(filters)
    ip, if_ = run_integration(filters)
    fp, ff = run_fuzz(filters)
    sp, sf = run_scripts(filters)
    bp, bf = run_browser(filters)
    mp, mf = run_mcu(filters)
    passed, failed = up + fp + ip + sp + bp + mp, uf + ff + if_ + sf + bf + mf
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
