#!/usr/bin/env python3
"""Device SDK memory and code size while installing a package.

haas-device (release build, the SDK on its Linux port) installs a 4 MiB and
then a 16 MiB package from a fresh haas-emu, each run under valgrind's
massif. Printed:
  - the SDK core's own memory: its state struct (it allocates nothing: the
    library references no malloc/calloc/realloc/free, checked with nm);
  - the whole process's peak heap (libcurl, libmosquitto, zlib, OpenSSL
    included) for both package sizes, which must not grow with the package;
  - the core's code size for a microcontroller (xtensa-lx106-elf-gcc -Os).
Goal: the core's peak memory under 64 KiB whatever the package size.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from harness import APP_ID, ROOT, Emulator, make_package, package_name, wait_for  # noqa: E402
from sim_device import write_app  # noqa: E402

DEVICE = os.path.join(ROOT, "build", "haas-device")
GOAL = 64 * 1024


def massif_peak(path):
    """Peak of mem_heap_B + mem_heap_extra_B over all snapshots."""
    peak = 0
    heap = extra = 0
    with open(path) as f:
        for line in f:
            if line.startswith("mem_heap_B="):
                heap = int(line.split("=")[1])
            elif line.startswith("mem_heap_extra_B="):
                extra = int(line.split("=")[1])
                peak = max(peak, heap + extra)
    return peak


def install_under_massif(emu, pk, dev, work, version, size_mib):
    data = make_package({"blob.bin": os.urandom(size_mib << 20)}, version=version)
    assert emu.upload(APP_ID, package_name(version), data).status == 201
    root = os.path.join(work, "flash-" + version)
    write_app(os.path.join(root, "data", "pyamp"), "0.0.1")
    gid = emu.post("/api/v1/groups", {"name": version}).json["groupId"]
    emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": dev["deviceName"]}]})
    tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": gid}).json["taskId"]
    emu.post("/api/v1/tasks/%s/push" % tid)  # device offline: it gets the push when it asks
    out = os.path.join(work, "massif-%s.out" % version)
    proc = subprocess.run(["valgrind", "--tool=massif", "--massif-out-file=" + out, DEVICE,
                           "--product-key", pk, "--device-name", dev["deviceName"],
                           "--device-secret", dev["deviceSecret"], "--broker", "127.0.0.1:%d" % emu.mqtt_port,
                           "--root", root, "--no-python", "--exit-after-result", "--max-package-size",
                           str(64 << 20)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or "upgrade result 200 sent" not in proc.stdout:
        raise SystemExit("install of %s failed:\n%s\n%s" % (version, proc.stdout[-2000:], proc.stderr[-2000:]))
    wait_for(lambda: emu.get("/api/v1/tasks/" + tid).json["counts"]["succeeded"] == 1, what="succeeded")
    return len(data), massif_peak(out)


def main():
    for tool in ("valgrind", "nm", "xtensa-lx106-elf-gcc"):
        if not shutil.which(tool):
            raise SystemExit("bench needs %s (make test-deps installs it)" % tool)
    sizes = dict(line.split() for line in subprocess.run([DEVICE, "--sizes"], capture_output=True, text=True,
                                                          check=True).stdout.splitlines())
    state = int(sizes["sizeof(haas_upgrade)"])
    symbols = subprocess.run(["nm", os.path.join(ROOT, "build", "libhaas_upgrade.a")], capture_output=True,
                             text=True, check=True).stdout
    allocating = sorted(set(re.findall(r"\sU (malloc|calloc|realloc|free|strdup)\b", symbols)))
    code = subprocess.run(["make", "-s", "sdk-cross"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()

    work = tempfile.mkdtemp(prefix="haas-sdkmem-")
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu = Emulator("bench-sdk-memory", data_dir=os.path.join(work, "data"),
                   args=["--max-package-size", "64m", "--max-unpacked-size", "64m"]).start()
    try:
        pk = emu.product("bench")
        dev = emu.device(pk, "bench-core2")
        emu.app()
        runs = [install_under_massif(emu, pk, dev, work, v, mib) for v, mib in (("0.1.0", 4), ("0.2.0", 16))]
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)

    core_peak = state  # the core allocates nothing: its state is all it uses
    print("device SDK memory while installing (haas-device under valgrind massif):")
    print("  SDK core state (sizeof haas_upgrade, caller-owned): %d bytes" % state)
    print("  SDK core heap allocations: %s" % ("none (no allocator referenced)" if not allocating
                                                else "REFERENCES " + ", ".join(allocating)))
    for (size, peak), label in zip(runs, ("4 MiB", "16 MiB")):
        print("  whole process peak heap, %-6s package (%8d bytes): %7d bytes (libcurl, libmosquitto, zlib, "
              "OpenSSL included)" % (label, size, peak))
    growth = runs[1][1] - runs[0][1]
    print("  peak heap growth from 4 MiB to 16 MiB: %+d bytes" % growth)
    print("  " + code)
    ok = not allocating and core_peak < GOAL
    print("  core peak memory %d bytes, goal < %d bytes: %s" % (core_peak, GOAL, "OK" if ok else "ABOVE GOAL"))


if __name__ == "__main__":
    main()
