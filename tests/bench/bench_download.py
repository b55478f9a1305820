#!/usr/bin/env python3
"""Package download throughput: haas-emu against nginx, same file, same
machine, same load generator (wrk), in one run. Prints both and the ratio.

A 16 MiB package is uploaded to a fresh haas-emu (release build); nginx
serves the very same file from a root that maps the same /<bucket>/<object>
path. Each server is measured ROUNDS times, alternating, and the best round
of each counts. Goal: haas-emu at least 0.9x nginx.

haas-emu is measured a second time in each round with 8 download fault rules
enabled, scoped to another product or task (idle_faults.py: every download
walks them, none fires); the two haas-emu runs swap order each round. Both
are printed side by side, with their ratio and each one's to nginx, and
haas-emu's CPU time per download. A fault hook costs per request, which a
16 MiB body hides, so a short second leg repeats the pair with 1 KiB Range
requests (SMALL_ROUNDS x SMALL_SECONDS each) and prints requests per second
and CPU per request without and with the rules.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, free_port, make_package, package_name, wait_for  # noqa: E402
import idle_faults  # noqa: E402

ROUNDS = 3
SECONDS = 4
CONNECTIONS = 4
GOAL = 0.9
SMALL_ROUNDS = 2
SMALL_SECONDS = 2
SMALL_RANGE = "bytes=0-1023"


def wrk(url, pid=None, seconds=SECONDS, headers=()):
    """Requests per second; with pid, also (requests, CPU ms process pid used meanwhile)."""
    cpu0 = idle_faults.cpu_ms(pid) if pid else 0
    args = ["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % seconds]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit("wrk saw %s error responses from %s" % (errors.group(1), url))
    if pid:
        return rps, int(re.search(r"(\d+) requests in", out).group(1)), idle_faults.cpu_ms(pid) - cpu0
    return rps


def emu_pair(rules, url, pid, first_with_rules, runs, cpu, **kw):
    """One round's two haas-emu runs, without and with the rules (order as
    asked); appends requests/s to runs[with_rules] and adds (requests, CPU
    ms) into cpu[with_rules]."""
    for with_rules in ((True, False) if first_with_rules else (False, True)):
        if with_rules:
            rules.on()
        rps, requests, ms = wrk(url, pid, **kw)
        if with_rules:
            rules.off()
        runs[with_rules].append(rps)
        cpu[with_rules][0] += requests
        cpu[with_rules][1] += ms


def start_nginx(root, port, workdir):
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""user root;
worker_processes 2;
pid %(w)s/nginx.pid;
error_log %(w)s/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
    }
}
""" % {"w": workdir, "port": port, "root": root})
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", workdir, "-g", "daemon off;"])
    return proc


def main():
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("bench needs wrk and nginx (make test-deps installs them)")
    work = tempfile.mkdtemp(prefix="haas-bench-")
    emu = Emulator("bench-download", data_dir=os.path.join(work, "data"),
                   env={"HAAS_URL_TTL": "86400"})
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu.start()
    nginx = None
    try:
        emu.app()
        blob = os.urandom(16 << 20)
        data = make_package({"blob.bin": blob})
        r = emu.upload(APP_ID, package_name(), data)
        assert r.status == 201, r
        url = urlparse(r.json["url"])
        emu_url = "http://127.0.0.1:%d%s?%s" % (emu.port, url.path, url.query)
        # nginx root: <root>/haas-emu/<appId>/<file> is the very same file.
        root = os.path.join(work, "nginx-root")
        os.makedirs(root)
        os.symlink(os.path.join(emu.data_dir, "packages"), os.path.join(root, "haas-emu"))
        nport = free_port()
        nginx = start_nginx(root, nport, work)
        ng_url = "http://127.0.0.1:%d%s" % (nport, url.path)
        wait_for(lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null", ng_url]).returncode == 0,
                 what="nginx")
        for u in (emu_url, ng_url):  # both must serve the same bytes
            got = subprocess.run(["curl", "-sf", u], capture_output=True, check=True).stdout
            assert got == data, u
        r = emu.upload(APP_ID, package_name("0.0.3"), make_package({}, version="0.0.3"))
        assert r.status == 201, r
        rules = idle_faults.IdleRules(emu, idle_faults.DOWNLOAD, APP_ID, "0.0.3")
        best = {"haas-emu": 0.0, "nginx": 0.0}
        runs = {False: [], True: []}
        cpu = {False: [0, 0.0], True: [0, 0.0]}  # requests, haas-emu CPU ms
        for i in range(ROUNDS):
            emu_pair(rules, emu_url, emu.proc.pid, i % 2 == 1, runs, cpu)
            best["haas-emu"] = max(best["haas-emu"], runs[False][-1])
            best["nginx"] = max(best["nginx"], wrk(ng_url))
        small_runs = {False: [], True: []}
        small_cpu = {False: [0, 0.0], True: [0, 0.0]}
        for i in range(SMALL_ROUNDS):
            emu_pair(rules, emu_url, emu.proc.pid, i % 2 == 1, small_runs, small_cpu, seconds=SMALL_SECONDS,
                     headers=["Range: " + SMALL_RANGE])
        rules.check()
        size_mib = len(data) / (1 << 20)
        print("package download, %.1f MiB package, wrk %d connections, best of %d x %ds:"
              % (size_mib, CONNECTIONS, ROUNDS, SECONDS))
        for name, rps in best.items():
            print("  %-9s %8.1f req/s %9.1f MiB/s" % (name, rps, rps * size_mib))
        ratio = best["haas-emu"] / best["nginx"]
        print("  ratio haas-emu/nginx: %.2fx (goal >= %.1fx) %s" % (ratio, GOAL, "OK" if ratio >= GOAL else "BELOW GOAL"))
        none, idle = max(runs[False]), max(runs[True])
        print("  haas-emu with %d download fault rules enabled, scoped to another product or task, none firing "
              "(same rounds, alternating; best):" % len(rules.ids))
        print("  fault rules: none %.1f MiB/s, %d enabled not firing %.1f MiB/s (Y/X = %.2fx); to nginx %.2fx "
              "and %.2fx; %s (rounds: none %.0f-%.0f MiB/s, with rules %.0f-%.0f MiB/s)"
              % (none * size_mib, len(rules.ids), idle * size_mib, idle / none, none / best["nginx"],
                 idle / best["nginx"], idle_faults.round_ratios(runs[False], runs[True]),
                 min(runs[False]) * size_mib, max(runs[False]) * size_mib,
                 min(runs[True]) * size_mib, max(runs[True]) * size_mib))
        none, idle = cpu[False][1] / cpu[False][0], cpu[True][1] / cpu[True][0]
        print("  haas-emu CPU per download: none %.2f ms, with the rules %.2f ms (Y/X = %.2fx; %d and %d downloads)"
              % (none, idle, idle / none, cpu[False][0], cpu[True][0]))
        none, idle = statistics.median(small_runs[False]), statistics.median(small_runs[True])
        us = {k: small_cpu[k][1] * 1000 / small_cpu[k][0] for k in small_cpu}
        print("  per request (Range: %s, %d x %ds each, medians): none %.0f req/s, haas-emu CPU %.0f us each; "
              "with the rules %.0f req/s (Y/X = %.2fx), %.0f us each (+%.0f us, Y/X = %.2fx)"
              % (SMALL_RANGE, SMALL_ROUNDS, SMALL_SECONDS, none, us[False], idle, idle / none, us[True],
                 us[True] - us[False], us[True] / us[False]))
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
