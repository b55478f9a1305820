#!/usr/bin/env python3
"""Package download throughput: haas-emu against nginx, same file, same
machine, same load generator (wrk), in one run. Prints both and the ratio.

A 16 MiB package is uploaded to a fresh haas-emu (release build); nginx
serves the very same file from a root that maps the same /<bucket>/<object>
path. Each server is measured ROUNDS times, alternating, and the best round
of each counts. Goal: haas-emu at least 0.9x nginx.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, free_port, make_package, package_name, wait_for  # noqa: E402

ROUNDS = 3
SECONDS = 4
CONNECTIONS = 4
GOAL = 0.9


def wrk(url):
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % SECONDS, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit("wrk saw %s error responses from %s" % (errors.group(1), url))
    return rps


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
        best = {"haas-emu": 0.0, "nginx": 0.0}
        for _ in range(ROUNDS):
            best["haas-emu"] = max(best["haas-emu"], wrk(emu_url))
            best["nginx"] = max(best["nginx"], wrk(ng_url))
        size_mib = len(data) / (1 << 20)
        print("package download, %.1f MiB package, wrk %d connections, best of %d x %ds:"
              % (size_mib, CONNECTIONS, ROUNDS, SECONDS))
        for name, rps in best.items():
            print("  %-9s %8.1f req/s %9.1f MiB/s" % (name, rps, rps * size_mib))
        ratio = best["haas-emu"] / best["nginx"]
        print("  ratio haas-emu/nginx: %.2fx (goal >= %.1fx) %s" % (ratio, GOAL, "OK" if ratio >= GOAL else "BELOW GOAL"))
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
