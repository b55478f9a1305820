#!/usr/bin/env python3
"""make test-mcu: the SDK core's unit tests on emulated microcontrollers.

Runs every program tests/mcu/mcu.mk built for each target under
qemu-system-arm with semihosting (the program's exit code is qemu's):
  - the core's unit tests (test_*.elf): cmocka's counts, exit code 0;
  - guard_check.elf: must stop in the MPU guard (exit 99), proving that a
    stack overflow faults instead of running on silently;
  - planted_failure.elf: a core test failing on purpose must be reported
    as one failed test with exit code 1, proving a failure fails the run;
  - the stack analysis (stack_report.py --check): every public call within
    the budget and within what the tables in haas_upgrade.h and haas_fw.h
    say.
  - the freestanding xtensa smoke program `make sdk-cross` links
    (build/xtensa/haas-smoke.elf) under qemu-system-xtensa -M sim -cpu lx106.
Then one line per target: counts, the core's text/data/bss (-Os), the state
structs' sizes, the peak stack the tests used (painting) and the static
worst case of a public call. Ends with "N passed, N failed".

Usage: tests/mcu/run.py [NAME...] (only programs whose name contains one).
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import stack_report  # noqa: E402

TARGETS = [("m3", "cortex-m3", "mps2-an385"), ("m4", "cortex-m4", "mps2-an386")]
GUARD_EXIT = 99


def qemu(machine, elf, timeout=300):
    cmd = ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
           "-semihosting-config", "enable=on,target=native", "-kernel", elf]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace", timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out + "\n(timed out after %ds)" % timeout


def core_size(cpu):
    lib = os.path.join(ROOT, "build", "mcu", cpu, "libhaas_core.a")
    out = subprocess.run(["arm-none-eabi-size", "-t", lib], capture_output=True, text=True, check=True).stdout
    text, data, bss = out.strip().splitlines()[-1].split()[:3]
    return int(text), int(data), int(bss)


def run_mcu(filters=(), log=print):
    passed = failed = 0
    stack_dirs = [os.path.join(ROOT, "build", "mcu", cpu) for cpu, _, _ in TARGETS]
    summaries = []
    for cpu, core, machine in TARGETS:
        folder = os.path.join(ROOT, "build", "mcu", cpu)
        if not os.path.isdir(folder):
            log("  FAIL  mcu %s: nothing built (make mcu-build)" % core)
            return passed, failed + 1
        t_pass = t_fail = 0
        peak, peak_in, state = 0, "", ""
        t0 = time.monotonic()
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".elf") or (filters and not any(f in name for f in filters)):
                continue
            rc, out = qemu(machine, os.path.join(folder, name))
            prog = name[:-4]
            m = re.search(r"mcu: peak stack (\d+) of", out)
            s = re.search(r"mcu: state haas_upgrade (\d+) bytes, haas_fw (\d+) bytes", out)
            if s:
                state = "haas_upgrade %s + haas_fw %s bytes" % s.groups()
            if prog == "guard_check":
                ok = rc == GUARD_EXIT and "MPU guard hit" in out
                t_pass, t_fail = t_pass + ok, t_fail + (not ok)
                log("  %-5s mcu %s %-20s stack overflow stopped by the MPU guard (exit %s)" %
                    ("ok" if ok else "FAIL", core, prog, rc))
            elif prog == "planted_failure":
                bad = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
                ok = rc == 1 and bad == 1
                t_pass, t_fail = t_pass + ok, t_fail + (not ok)
                log("  %-5s mcu %s %-20s a planted failure fails the target (exit %s, %d failed)" %
                    ("ok" if ok else "FAIL", core, prog, rc, bad))
            else:
                ok_n = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
                bad = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
                if rc != 0 and bad == 0:
                    bad = 1
                t_pass, t_fail = t_pass + ok_n, t_fail + bad
                if m and int(m.group(1)) > peak:
                    peak, peak_in = int(m.group(1)), prog
                log("  %-5s mcu %s %-20s %3d passed, %d failed, peak stack %s bytes" %
                    ("ok" if not bad else "FAIL", core, prog, ok_n, bad, m.group(1) if m else "?"))
            if not ok if prog in ("guard_check", "planted_failure") else bad:
                log(out[-3000:])
        text, data, bss = core_size(cpu)
        summaries.append((core, machine, t_pass, t_fail, text, data, bss, state, peak, peak_in,
                          time.monotonic() - t0))
        passed, failed = passed + t_pass, failed + t_fail
    # the freestanding xtensa smoke run (make sdk-cross links it)
    if not filters or any(f in "xtensa" for f in filters):
        elf = os.path.join(ROOT, "build", "xtensa", "haas-smoke.elf")
        if not os.path.exists(elf):
            log("  FAIL  mcu xtensa-lx106: %s not built (make sdk-cross)" % elf)
            failed += 1
        else:
            t0 = time.monotonic()
            try:
                proc = subprocess.run(["qemu-system-xtensa", "-M", "sim", "-cpu", "lx106", "-nographic", "-monitor",
                                       "none", "-semihosting", "-kernel", elf], capture_output=True, text=True,
                                      errors="replace", timeout=120)
                rc, out = proc.returncode, proc.stdout + proc.stderr
            except subprocess.TimeoutExpired:
                rc, out = None, "(timed out)"
            m = re.search(r"xtensa smoke: (\d+) checks passed, (\d+) failed", out)
            ok = rc == 0 and m is not None and int(m.group(2)) == 0 and int(m.group(1)) > 0
            passed, failed = passed + ok, failed + (not ok)
            size = subprocess.run(["xtensa-lx106-elf-size", elf], capture_output=True, text=True).stdout
            text = size.strip().splitlines()[-1].split()[0] if size.strip() else "?"
            log("  %-5s mcu xtensa-lx106 smoke (qemu sim): %s checks passed, %s failed, exit %s" %
                ("ok" if ok else "FAIL", m.group(1) if m else "?", m.group(2) if m else "?", rc))
            log("mcu xtensa-lx106 (qemu sim, freestanding, libgcc alone): smoke %s in %.1fs; linked image %s bytes "
                "text (the whole core and the smoke program)" % ("passed" if ok else "FAILED",
                                                                 time.monotonic() - t0, text))
            if not ok:
                log(out[-3000:])
    # the static worst case, both targets at once
    if not filters or any(f in "stack" for f in filters):
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = stack_report.main(["--check"] + stack_dirs)
        report = buf.getvalue()
        worst = {}
        for line in report.splitlines():
            m = re.match(r"stack (\w+)\s+(\d+)\s+(\d+)", line)
            if m:
                worst[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        ok = rc == 0
        passed, failed = passed + ok, failed + (not ok)
        log("  %-5s mcu stack analysis: every public call within %d bytes and within its header's table" %
            ("ok" if ok else "FAIL", stack_report.STACK_BUDGET))
        if not ok:
            log(report)
        deepest = max(worst, key=lambda n: worst[n][0]) if worst else None
        for i, s in enumerate(summaries):
            core, machine, tp, tf, text, data, bss, state, peak, peak_in, secs = s
            w = "static worst case %d bytes (%s), budget %d" % (worst[deepest][i], deepest,
                                                                stack_report.STACK_BUDGET) if deepest else ""
            log("mcu %s (qemu %s): %d passed, %d failed in %.1fs; core %d text, %d data, %d bss (-Os); state %s; "
                "peak stack of the tests %d bytes (%s, test code included); %s" % (core, machine, tp, tf, secs, text, data, bss, state, peak, peak_in, w))
    return passed, failed


def main():
    p, f = run_mcu(sys.argv[1:])
    print("%d passed, %d failed" % (p, f))
    sys.exit(1 if f or p == 0 else 0)


if __name__ == "__main__":
    main()
