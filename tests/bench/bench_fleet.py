#!/usr/bin/env python3
"""Fleet upgrade: N simulated devices (haas-device --fleet) in one group, one
push, time until haas-emu shows all N succeeded; next to the floor measured
in the same run, and haas-emu's peak memory. Goals (2-core machine): 1,000
devices in under 3 s, at most 1.5x the floor, haas-emu peak memory under
64 MiB at 10,000 devices.

For each N (100, 1,000, 10,000) a fresh haas-emu (release build) gets one
product with N devices in one group, the app, version 0.0.2 (a package with a
64 KiB random file inside) and one task. The devices run in haas-device
--fleet processes of at most PER_PROCESS devices each (libmosquitto keeps a
socketpair per client and only drains it below FD_SETSIZE): 1 process of 2
worker threads at 100, 4 x 2 at 1,000, 40 x 1 at 10,000. Their flash
folders are on tmpfs (/dev/shm when there is one: the simulated flash is not
what is measured) and hold the template app, version 0.0.1. The fleet runs
at nice 19: its workers poll every device without waiting (an idle fleet of
1,000 devices uses about 1.4 of the 2 cores), which at normal priority starves
haas-emu and mosquitto. Once every device is online and haas-emu has
recorded the version each one reported:

  haas-emu: the clock starts just before POST /api/v1/tasks/{id}/push and
            stops when a poll of the task's counts (GET /api/v1/tasks?appId=)
            first shows all N succeeded. That answer walks all N rows under
            the database lock, so it is asked for once haas-emu's log shows
            N "reports app.result 200" lines (written right after each result
            is recorded), and once a second before that. Each device
            downloads the package from haas-emu, verifies and installs it,
            reboots, reconnects and reports app.result 200.
  peak:     VmHWM of the haas-emu process (its managed mosquitto is a
            separate process, shown apart) once all N succeeded.

Then the fleet stops and the floor is measured on the same machine:

  push:     build/bench/mqtt_fleet holds N connections of other device
            identities (a second product, same name lengths) subscribed to
            their push topics. haas-emu pushes them once (the message size,
            and haas-emu's push-only time, shown for information), then
            mqtt_fleet floor, logged in with haas-emu's service account,
            publishes the same N messages of the same size (QoS 1) straight
            through the same mosquitto; time until the last device has its
            message; median of FLOOR_ROUNDS.
  download: nginx on 127.0.0.1 serves the very same package file at the
            same path; curl --parallel fetches it N times, with as many
            transfers in flight as the fleet has worker threads (a worker
            downloads one package at a time) and a fresh connection per
            download, as each device has its own (nginx keepalive off); the
            time of the whole curl run, its start included; median of
            FLOOR_ROUNDS.
  floor = push + download: the two steps one after the other, as a device
          does them. Not in the floor: the install on the device, its
          reboot and reconnect, the result and version messages and
          haas-emu's recording of them; haas-emu's time includes them all.

Also printed, to see where the time goes: CPU seconds used during the
upgrade by haas-emu (and its busiest thread), mosquitto and the fleet, and
haas-emu's open descriptors at the end.

Usage: bench_fleet.py [N ...]   (default: 100 1000 10000)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import http.client
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, free_port, make_package, package_name, wait_for  # noqa: E402
from sim_device import write_app  # noqa: E402
from bench_push import Tool, check_round, service_account  # noqa: E402

DEVICE = os.path.join(ROOT, "build", "haas-device")
FLEET_TOOL = os.path.join(ROOT, "build", "bench", "mqtt_fleet")
SIZES = (100, 1000, 10000)
PACKAGE_BLOB = 64 << 10
PER_PROCESS = 250        # devices per haas-device --fleet process
THREADS = 2              # worker threads per fleet process up to 1,000 devices
THREADS_LARGE = 1        # ... and beyond (40 processes at 10,000)
FLEET_NICE = 19          # the fleet polls its devices without waiting; haas-emu and mosquitto come first
FLOOR_ROUNDS = 3
GOAL_RATIO = 1.5
GOAL_SECONDS_1000 = 3.0
GOAL_MEMORY_MIB = 64
TIMEOUT = 120            # seconds: any single step (fleet online, upgrade, floor round)
WINDOW = 100             # mqtt_fleet logins in flight at once
LOG_INTERVAL = 0.005     # seconds between looks at haas-emu's log
FALLBACK_POLL = 1.0      # seconds between polls of the task's counts before the log shows N results
TICK = os.sysconf("SC_CLK_TCK")


class ResultLog:
    """Counts the "reports app.result 200" lines haas-emu logs right after
    recording a result, so that the task's counts (an answer that walks all
    N rows under the database lock) are asked for only once they can be
    complete, plus once every FALLBACK_POLL seconds."""

    MARK = b" reports app.result 200 "

    def __init__(self, path):
        self.f = open(path, "rb")
        self.f.seek(0, os.SEEK_END)
        self.seen = 0
        self.rest = b""

    def count(self):
        data = self.rest + self.f.read()
        cut = data.rfind(b"\n") + 1
        self.seen += data[:cut].count(self.MARK)
        self.rest = data[cut:]
        return self.seen

    def close(self):
        self.f.close()


# ---- processes ----

def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds; 0 when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def thread_cpu_seconds(pid):
    """{thread id: (name, CPU seconds)} of every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = (name, (int(fields[11]) + int(fields[12])) / TICK)
        except (OSError, IndexError, ValueError):
            pass
    return out


def status_kib(pid, key):
    """A 'kB' field of /proc/<pid>/status (VmHWM, VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (key, pid))


def child_pid(parent, comm):
    """Pid of parent's child process named comm (haas-emu's mosquitto)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        if ppid == parent and name == comm:
            return int(entry)
    return None


def stop_procs(procs, timeout=30):
    """SIGTERM every process, then waits; kills what is left at the deadline."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


# ---- haas-emu fixtures ----

def make_devices(emu, name, n, prefix):
    """A product with n devices in one group; returns (pk, gid, items)."""
    pk = emu.product(name)
    r = emu.post("/api/v1/products/%s/devices" % pk, {"count": n, "prefix": prefix}, timeout=TIMEOUT)
    assert r.status == 201, r
    items = r.json["items"]
    assert len(items) == n, len(items)
    gid = emu.post("/api/v1/groups", {"name": name}).json["groupId"]
    for i in range(0, n, 5000):
        r = emu.post("/api/v1/groups/%s/devices" % gid,
                     {"devices": [{"productKey": d["productKey"], "deviceName": d["deviceName"]}
                                  for d in items[i:i + 5000]]}, timeout=TIMEOUT)
        assert r.status == 200, r
    return pk, gid, items


def make_task(emu, gid):
    r = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid})
    assert r.status == 201, r
    return r.json["taskId"]


def write_triples(path, items):
    with open(path, "w") as f:
        for d in items:
            f.write("%s %s %s\n" % (d["productKey"], d["deviceName"], d["deviceSecret"]))


def online(emu, pk):
    return emu.get("/api/v1/products/%s/devices?status=online&limit=1" % pk).json["total"]


def versions_known(emu, pk, n):
    """True when haas-emu has recorded version 0.0.1 of the app for all n
    devices (their hli_event_upgrade_query was handled): a push before that
    would be repeated by the late query."""
    seen = 0
    for offset in range(0, n, 500):
        items = emu.get("/api/v1/products/%s/devices?offset=%d&limit=500" % (pk, offset)).json["items"]
        for d in items:
            if any(a.get("appId") == APP_ID and a.get("version") == "0.0.1" for a in d.get("apps") or []):
                seen += 1
    return seen == n


def task_counts(emu, task_id):
    """The task's counts from the task list (no per-device rows in the answer)."""
    for t in emu.get("/api/v1/tasks?appId=%s&limit=500" % APP_ID).json["items"]:
        if t["taskId"] == task_id:
            return t["counts"]
    raise AssertionError("task %s not listed" % task_id)


# ---- the haas-device fleet ----

def fleet_layout(n):
    """(processes, threads per process) for n devices."""
    procs = (n + PER_PROCESS - 1) // PER_PROCESS
    return procs, THREADS if n <= 1000 else THREADS_LARGE


def start_fleet(emu, items, work, flash):
    """Writes every device's flash (the template app, 0.0.1) and starts the
    haas-device --fleet processes; returns (processes, worker threads in all)."""
    template = os.path.join(flash, "template")
    write_app(template, "0.0.1")
    roots = os.path.join(flash, "roots")
    os.makedirs(roots)
    for d in items:  # what --init-app would copy, without a cp process per device
        shutil.copytree(template, os.path.join(roots, d["deviceName"], "data", "pyamp"))
    nproc, threads = fleet_layout(len(items))
    procs = []
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    for i in range(nproc):
        part = items[i * PER_PROCESS:(i + 1) * PER_PROCESS]
        triples = os.path.join(work, "fleet-%d.txt" % i)
        write_triples(triples, part)
        log = open(os.path.join(work, "fleet-%d.log" % i), "wb")
        try:
            procs.append(subprocess.Popen(["nice", "-n", str(FLEET_NICE), DEVICE, "--fleet", triples,
                                           "--broker", "127.0.0.1:%d" % emu.mqtt_port, "--root", roots,
                                           "--init-app", template, "--threads", str(threads)],
                                          stdout=log, stderr=subprocess.STDOUT, env=env))
        finally:
            log.close()
    return procs, nproc * threads


def check_fleet(procs):
    for i, p in enumerate(procs):
        if p.poll() is not None:
            raise AssertionError("haas-device fleet process %d exited with %s" % (i, p.returncode))


def push_and_wait(emu, task_id, n, procs):
    """POST .../push, then waits until the task's counts show all n
    succeeded; returns (seconds from just before the POST to the answer
    of that poll, seconds until the POST was answered, polls made)."""
    results = ResultLog(emu.log_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=TIMEOUT)
        conn.connect()
        t0 = time.monotonic()
        conn.request("POST", "/api/v1/tasks/%s/push" % task_id)
        resp = conn.getresponse()
        body = resp.read()
        t_http = time.monotonic()
        conn.close()
        assert resp.status == 200, (resp.status, body)
        pushed = json.loads(body)
        assert pushed["pushed"] == n and not pushed.get("notSent"), pushed
        polls, last_poll = 0, t0
        while True:
            now = time.monotonic()
            if results.count() >= n or now - last_poll >= FALLBACK_POLL:
                counts = task_counts(emu, task_id)
                polls += 1
                last_poll = time.monotonic()
                if counts["succeeded"] == n:
                    return last_poll - t0, t_http - t0, polls
                if counts["failed"]:
                    raise AssertionError("after %.1f s: %s" % (now - t0, counts))
            if now - t0 > TIMEOUT:
                raise AssertionError("after %.1f s: %s" % (now - t0, task_counts(emu, task_id)))
            check_fleet(procs)
            time.sleep(LOG_INTERVAL)
    finally:
        results.close()


def upgrade(emu, n, work):
    """The haas-emu measurement for n devices; returns a result dict."""
    emu.app()
    blob = os.urandom(PACKAGE_BLOB)
    r = emu.upload(APP_ID, package_name("0.0.2"), make_package({"blob.bin": blob}, version="0.0.2"))
    assert r.status == 201, r
    version = r.json
    pk, gid, items = make_devices(emu, "fleet-%d" % n, n, "f")
    task_id = make_task(emu, gid)
    hwm_setup = status_kib(emu.proc.pid, "VmHWM")
    flash = tempfile.mkdtemp(prefix="haas-bench-flash-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    procs = []
    try:
        t_start = time.monotonic()
        procs, workers = start_fleet(emu, items, work, flash)
        wait_for(lambda: check_fleet(procs) or online(emu, pk) == n, timeout=TIMEOUT, interval=0.1,
                 what="%d haas-device fleet devices online" % n)
        wait_for(lambda: check_fleet(procs) or versions_known(emu, pk, n), timeout=TIMEOUT, interval=0.2,
                 what="haas-emu to know the version of all %d devices" % n)
        online_s = time.monotonic() - t_start
        time.sleep(0.5)  # let the fleet settle (nothing in flight)
        mosq = child_pid(emu.proc.pid, "mosquitto")
        cpu0 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq) if mosq else 0.0,
                sum(cpu_seconds(p.pid) for p in procs))
        threads0 = thread_cpu_seconds(emu.proc.pid)
        seconds, http_s, polls = push_and_wait(emu, task_id, n, procs)
        cpu1 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq) if mosq else 0.0,
                sum(cpu_seconds(p.pid) for p in procs))
        threads1 = thread_cpu_seconds(emu.proc.pid)
        busiest = max(cpu - threads0.get(tid, ("", 0.0))[1] for tid, (_, cpu) in threads1.items())
        fds = len(os.listdir("/proc/%d/fd" % emu.proc.pid))
        hwm = status_kib(emu.proc.pid, "VmHWM")
        rss = status_kib(emu.proc.pid, "VmRSS")
        mosq_hwm = status_kib(mosq, "VmHWM") if mosq else 0
        # every device's flash now holds the new app
        for d in items[::max(1, n // 50)]:
            with open(os.path.join(flash, "roots", d["deviceName"], "data", "pyamp", "manifest.json")) as f:
                assert json.load(f)["version"] == "0.0.2", d["deviceName"]
        return {"n": n, "seconds": seconds, "http": http_s, "polls": polls,
                "hwm_setup": hwm_setup, "hwm": hwm, "rss": rss, "mosq_hwm": mosq_hwm, "online_s": online_s,
                "cpu": [b - a for a, b in zip(cpu0, cpu1)], "procs": len(procs), "workers": workers,
                "busiest": busiest, "fds": fds,
                "url": version["url"], "package_bytes": version["size"]}
    finally:
        stop_procs(procs)
        shutil.rmtree(flash, ignore_errors=True)


# ---- the floor ----

def push_floor(emu, n, work):
    """Returns (median floor ms, push size in bytes, haas-emu push-only ms)."""
    pk, gid, items = make_devices(emu, "floor-%d" % n, n, "g")
    task_id = make_task(emu, gid)
    triples = os.path.join(work, "floor-devices-%d.txt" % n)
    write_triples(triples, items)
    fleet = Tool([FLEET_TOOL, "devices", "--port", str(emu.mqtt_port), "--file", triples, "--window", str(WINDOW),
                  "--timeout", str(TIMEOUT)], os.path.join(work, "mqtt-fleet-%d.log" % n))
    floor = None
    try:
        fleet.expect("CONNECTED", timeout=TIMEOUT)
        fleet.expect("SUBSCRIBED", timeout=TIMEOUT)
        fleet.expect("READY", timeout=TIMEOUT)
        wait_for(lambda: online(emu, pk) == n, timeout=TIMEOUT, interval=0.05,
                 what="haas-emu to see %d floor devices online" % n)
        # one push through haas-emu: the real message size
        fleet.send("ROUND")
        fleet.expect("ARMED")
        t0 = time.monotonic() * 1000
        r = emu.post("/api/v1/tasks/%s/push" % task_id, timeout=TIMEOUT)
        assert r.status == 200 and r.json["pushed"] == n, r
        done = fleet.expect("DONE", timeout=TIMEOUT)
        check_round(done, n)
        emu_push_ms = float(done["last_ms"]) - t0
        size = int(done["bytes"])
        user, password = service_account(emu)
        floor = Tool([FLEET_TOOL, "floor", "--port", str(emu.mqtt_port), "--file", triples, "--username", user,
                      "--password", password, "--size", str(size), "--timeout", str(TIMEOUT)],
                     os.path.join(work, "mqtt-floor-%d.log" % n))
        floor.expect("READY", timeout=TIMEOUT)
        times = []
        for _ in range(FLOOR_ROUNDS):
            fleet.send("ROUND")
            fleet.expect("ARMED")
            floor.send("GO")
            sent = floor.expect("SENT", timeout=TIMEOUT)
            done = fleet.expect("DONE", timeout=TIMEOUT)
            check_round(done, n)
            times.append(float(done["last_ms"]) - float(sent["t0_ms"]))
        bye, rc = fleet.quit()
        assert rc == 0 and int(bye["rounds"]) == FLOOR_ROUNDS + 1, ("fleet", bye, rc)
        bye, rc = floor.quit()
        assert rc == 0, ("floor", bye, rc)
        return statistics.median(times), size, emu_push_ms
    finally:
        if floor:
            floor.close()
        fleet.close()


def write_nginx_conf(root, port, workdir):
    """nginx as bench_download.py runs it, with keepalive off: one connection
    per download, as each simulated device has its own."""
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""user root;
worker_processes 2;
pid %(w)s/nginx.pid;
error_log %(w)s/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 0;
    server {
        listen 127.0.0.1:%(port)d backlog=4096;
        root %(root)s;
    }
}
""" % {"w": workdir, "port": port, "root": root})
    return conf


def start_nginx(emu, url, package_bytes, work, tag):
    """nginx on 127.0.0.1 serving haas-emu's package files (emu.data_dir) at
    the paths of haas-emu's package URLs; returns (nginx process, the URL
    `url` at nginx), once nginx serves that package whole. Also used by
    bench_rollout.py's floor."""
    u = urlparse(url)
    bucket = u.path.split("/")[1]
    root = os.path.join(work, "nginx-root-%s" % tag)
    os.makedirs(root)
    os.symlink(os.path.join(emu.data_dir, "packages"), os.path.join(root, bucket))
    nwork = os.path.join(work, "nginx-%s" % tag)
    os.makedirs(nwork)
    port = free_port()
    nginx = subprocess.Popen(["nginx", "-c", write_nginx_conf(root, port, nwork), "-p", nwork, "-g", "daemon off;"])
    try:
        ng_url = "http://127.0.0.1:%d%s?%s" % (port, u.path, u.query)
        wait_for(lambda: nginx.poll() is None and subprocess.run(["curl", "-sf", "-o", "/dev/null", ng_url])
                 .returncode == 0, what="nginx")
        got = subprocess.run(["curl", "-sf", ng_url], capture_output=True, check=True).stdout
        assert len(got) == package_bytes, (len(got), package_bytes)
        return nginx, ng_url
    except BaseException:
        stop_procs([nginx])
        raise


def download_floor(emu, n, workers, url, package_bytes, work):
    """Median seconds for n downloads of the package from nginx, `workers`
    at a time; nginx is stopped before returning."""
    nginx, ng_url = start_nginx(emu, url, package_bytes, work, n)
    try:
        config = os.path.join(work, "curl-%d.conf" % n)
        with open(config, "w") as f:
            for _ in range(n):
                f.write('url = "%s"\noutput = "/dev/null"\n' % ng_url)
        times = []
        for _ in range(FLOOR_ROUNDS):
            t0 = time.monotonic()
            r = subprocess.run(["curl", "--parallel", "--parallel-immediate", "--parallel-max", str(workers),
                                "-sS", "--fail", "-K", config, "-w", "%{http_code} %{size_download}\n"],
                               capture_output=True, text=True, timeout=TIMEOUT)
            times.append(time.monotonic() - t0)
            lines = r.stdout.split()
            ok = r.returncode == 0 and lines.count("200") == n and lines.count(str(package_bytes)) == n
            assert ok, "curl: rc %d, %d answers 200 of %d; %s" % (r.returncode, lines.count("200"), n, r.stderr[-500:])
        return statistics.median(times)
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)


# ---- one N ----

def bench(n, work):
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu = Emulator("bench-fleet-%d" % n, data_dir=os.path.join(work, "data-%d" % n),
                   env={"HAAS_URL_TTL": "86400"})
    failed = True
    try:
        emu.start()
        result = upgrade(emu, n, work)
        push_ms, size, emu_push_ms = push_floor(emu, n, work)
        result.update(push_floor=push_ms / 1000, push_bytes=size, emu_push=emu_push_ms / 1000)
        result["download_floor"] = download_floor(emu, n, result["workers"], result["url"], result["package_bytes"],
                                                  work)
        failed = False
        return result
    finally:
        emu.stop(check=not failed)


def report(results):
    mark = lambda ok: "OK" if ok else "ABOVE GOAL"  # noqa: E731
    print("fleet upgrade: N haas-device --fleet devices in one group, one push of a package with a %d KiB file, "
          "until haas-emu shows all N succeeded; floor = the same N pushes straight through mosquitto + the same "
          "N downloads from nginx (each the median of %d), one after the other:" % (PACKAGE_BLOB >> 10, FLOOR_ROUNDS))
    print("  %6s  %9s  %9s  %9s  %9s  %7s %-10s  %9s %-10s" % ("N", "haas-emu", "floor", "push", "download", "ratio",
                                                          "(<= %.1fx)" % GOAL_RATIO, "emu peak",
                                                          "(< %d MiB)" % GOAL_MEMORY_MIB))
    for r in results:
        floor = r["push_floor"] + r["download_floor"]
        ratio = r["seconds"] / floor
        mib = r["hwm"] / 1024
        print("  %6d  %7.3f s  %7.3f s  %7.3f s  %7.3f s  %6.2fx %-10s  %5.1f MiB %-10s"
              % (r["n"], r["seconds"], floor, r["push_floor"], r["download_floor"], ratio, mark(ratio <= GOAL_RATIO),
                 mib, mark(mib < GOAL_MEMORY_MIB) if r["n"] >= 10000 else "-"))
    for r in results:
        if r["n"] == 1000:
            print("  1,000 devices upgraded in %.2f s: %s (goal < %.0f s)"
                  % (r["seconds"], mark(r["seconds"] < GOAL_SECONDS_1000), GOAL_SECONDS_1000))
    print("  where the time goes (CPU seconds during the upgrade; the machine has %d cores):" % os.cpu_count())
    for r in results:
        print("  N=%d: %d fleet processes x %d threads (nice %d); POST .../push answered in %.0f ms; haas-emu's "
              "push alone reaches N mqtt_fleet clients in %.0f ms (%d-byte messages). CPU: haas-emu %.2f s (its "
              "busiest thread, the MQTT link, %.2f s), mosquitto %.2f s, haas-device fleet %.2f s, in %.2f s."
              % (r["n"], r["procs"], r["workers"] // r["procs"], FLEET_NICE, r["http"] * 1000, r["emu_push"] * 1000,
                 r["push_bytes"], r["cpu"][0], r["busiest"], r["cpu"][1], r["cpu"][2], r["seconds"]))
        print("  N=%d: haas-emu VmHWM %.1f MiB after setup, %.1f MiB after the upgrade, with %d descriptors open "
              "(devices keep their download connection); mosquitto VmHWM %.1f MiB"
              % (r["n"], r["hwm_setup"] / 1024, r["hwm"] / 1024, r["fds"], r["mosq_hwm"] / 1024))


def main():
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    for tool in (DEVICE, FLEET_TOOL):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench needs %s (make; make build/bench/mqtt_fleet)" % tool)
    if not shutil.which("nginx") or not shutil.which("curl"):
        raise SystemExit("bench needs nginx and curl (make test-deps installs them)")
    work = tempfile.mkdtemp(prefix="haas-bench-fleet-")
    failed = True
    try:
        results = [bench(n, work) for n in sizes]
        report(results)
        failed = False
    finally:
        if failed:
            print("bench_fleet failed; logs kept in %s and tests/out/logs/bench-fleet-*.log" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
