#!/usr/bin/env python3
"""Fleet upgrade: N simulated devices (haas-device --fleet) upgraded by
haas-emu, next to the floor: the SAME fleet doing the SAME work against the
smallest server that can serve it, in the same run, in alternating rounds.
Goals (issue 14): haas-emu's time at most 1.15x the floor's and its server
CPU per device upgrade at most 1.5x the floor's, at 1,000 and 10,000
devices, with console-style task polling running; haas-emu's peak memory
under 64 MiB at 10,000 devices.

For each N (default 1,000 and 10,000; 100 works too) one haas-emu (release
build, build/haas-emu) gets one product with N devices in one group, the
app, and 2 x ROUNDS versions 0.0.2, 0.0.3, ... (each a package with the same
64 KiB random file inside, so every package has the same size give or take
a few bytes). The devices' flash is on tmpfs (/dev/shm: the simulated flash
is not what is measured), written once with the app at 0.0.1 and kept for
all rounds, so the version moves forward one step a round. The devices run
in haas-device --fleet processes of at most PER_PROCESS devices each, at
nice 19 (the fleet must not starve the servers): 1 x 2 worker threads at
100, 4 x 2 at 1,000, 40 x 1 at 10,000 (fleet_layout()).

The floor's servers run next to haas-emu for the whole N: a plain mosquitto
(no plugin, anonymous, listener on 127.0.0.1, otherwise the managed
broker's settings) and nginx on 127.0.0.1 serving haas-emu's own package
files at the same paths (keepalive off: one connection per download, as
each device has its own). Rounds alternate, haas-emu first, ROUNDS each;
round k takes every device from 0.0.(k+1) to 0.0.(k+2):

  haas-emu: a new task for the round's version on the group; the fleet
            starts pointed at haas-emu's broker; once every device is online
            and haas-emu has recorded the version each one reported, the
            clock starts just before POST /api/v1/tasks/{id}/push. A poller
            does what the console's task page does while a task runs
            (CountsPoller): the task with its counts and the first page of
            its devices, over one keep-alive connection, again 50 ms after
            each answer, from the push on; the clock stops at the answer of
            the first poll that shows all N succeeded. Each device downloads
            the package from haas-emu, verifies and installs it, reboots,
            reconnects (informs its firmware, asks for a firmware job) and
            reports app.result 200 and its version, which haas-emu records
            and answers.
  floor:    build/bench/fleet_floor (tests/bench/fleet_floor.c) connects to
            the plain mosquitto and subscribes to the devices' queries and
            results; the fleet starts pointed at that mosquitto; once every
            device has sent its query (it is online and subscribed to its
            push topic), fleet_floor publishes haas-emu's push message (same
            fields, QoS 1) with the nginx URL, MD5 and size of the round's
            package to every device and counts the app.result 200 events.
            The clock runs from just before its first publish to the arrival
            of the N-th result. The devices do the same work as above; they
            wait for no reply, so the floor sends none (fleet_floor.c).

The fleet stops after each round (and, after a haas-emu round, haas-emu has
seen every device go offline) before the next round starts it again. Every
round asserts what it measured: exactly N results (haas-emu: the task counts
show N succeeded of N, none failed; floor: N distinct devices reported 200
for the round's version), and every device's flash holds the new version
afterwards.

CPU (utime + stime from /proc) over each round's measured window:
  haas-emu side: haas-emu + its managed mosquitto (+ busiest threads, by
                 name; those that ended within the round, such as the
                 push's own http-aside thread, as "(threads that ended)");
  floor side:    mosquitto + nginx (master and workers) + fleet_floor;
  per device upgrade: that CPU / N. The fleet's own CPU is shown apart.
Peak: haas-emu's VmHWM (and its mosquitto's) after the last round.

Reported per N: medians of the ROUNDS rounds of each side and their ranges,
the ratios of the medians next to the goals, then each round's detail.
HAAS_BENCH_PERF=DIR records `perf record -F 499 --call-graph dwarf` of the
measured servers during every round into DIR/perf-N-round-SIDE.data (for
`perf report --sort pid,comm,dso,sym`): haas-emu and its mosquitto, or the
floor's mosquitto, nginx and fleet_floor. The recording itself slows the
servers down, so the times of such a run are not the benchmark's.

Usage: bench_fleet.py [--rounds R] [N ...]   (default: 3 rounds each; N 1000 10000)
"""
import json
import os
import shutil
import signal
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
from procs import children, child_pid, cpu_seconds, status_kib, stop_procs, thread_cpu_by_name, thread_cpu_seconds  # noqa: E402,F401
from bench_push import Tool  # noqa: E402

DEVICE = os.path.join(ROOT, "build", "haas-device")
FLOOR_TOOL = os.path.join(ROOT, "build", "bench", "fleet_floor")
SIZES = (1000, 10000)
ROUNDS = 3               # rounds of each side, alternating
PACKAGE_BLOB = 64 << 10
PER_PROCESS = 250        # devices per haas-device --fleet process
THREADS = 2              # worker threads per fleet process up to 1,000 devices
THREADS_LARGE = 1        # ... and beyond (40 processes at 10,000)
FLEET_NICE = 19          # the servers come first; the fleet uses what is left
GOAL_RATIO = 1.15
GOAL_CPU_RATIO = 1.5
GOAL_MEMORY_MIB = 64
POLL_INTERVAL = 0.05     # seconds from a task-page answer to the next poll, as the console
TIMEOUT = 120            # seconds: any single step (fleet online, the pushes reaching the devices)
ROUND_SECONDS_PER_DEVICE = 0.03  # a round's deadline: max(TIMEOUT, this x N) (a busy machine starves the fleet)
PERF_DIR = os.environ.get("HAAS_BENCH_PERF")


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


def make_task(emu, gid, version="0.0.2"):
    r = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": gid})
    assert r.status == 201, r
    return r.json["taskId"]


def upload_versions(emu, count):
    """Versions 0.0.2 ... 0.0.(count+1), each a package holding the same
    PACKAGE_BLOB random bytes; returns their records (url, md5, size)."""
    blob = os.urandom(PACKAGE_BLOB)
    out = []
    for k in range(count):
        v = "0.0.%d" % (k + 2)
        r = emu.upload(APP_ID, package_name(v), make_package({"blob.bin": blob}, version=v))
        assert r.status == 201, r
        assert r.json["version"] == v and r.json["url"] and len(r.json["md5"]) == 32, r.json
        out.append(r.json)
    return out


def write_triples(path, items):
    with open(path, "w") as f:
        for d in items:
            f.write("%s %s %s\n" % (d["productKey"], d["deviceName"], d["deviceSecret"]))


def online(emu, pk):
    return emu.get("/api/v1/products/%s/devices?status=online&limit=1" % pk).json["total"]


def versions_known(emu, pk, n, version="0.0.1"):
    """True when haas-emu has recorded `version` of the app for all n
    devices (their hli_event_upgrade_query was handled): a push before that
    would be repeated by the late query."""
    seen = 0
    for offset in range(0, n, 500):
        items = emu.get("/api/v1/products/%s/devices?offset=%d&limit=500" % (pk, offset)).json["items"]
        for d in items:
            if any(a.get("appId") == APP_ID and a.get("version") == version for a in d.get("apps") or []):
                seen += 1
    return seen == n


# ---- the haas-device fleet ----

def fleet_layout(n):
    """(processes, threads per process) for n devices."""
    procs = (n + PER_PROCESS - 1) // PER_PROCESS
    return procs, THREADS if n <= 1000 else THREADS_LARGE


def write_flash(items, flash):
    """Every device's flash folder flash/roots/<dn> holding the template app
    at 0.0.1 (what --init-app would copy, without a cp per device); returns
    (roots, template)."""
    template = os.path.join(flash, "template")
    write_app(template, "0.0.1")
    roots = os.path.join(flash, "roots")
    os.makedirs(roots)
    for d in items:
        shutil.copytree(template, os.path.join(roots, d["deviceName"], "data", "pyamp"))
    return roots, template


def launch_fleet(port, items, work, roots, template, tag=""):
    """Starts the haas-device --fleet processes on the flash already in
    roots, pointed at the broker on 127.0.0.1:port; returns (processes,
    worker threads in all). Logs go to work/<tag>fleet-<i>.log."""
    nproc, threads = fleet_layout(len(items))
    procs = []
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    try:
        for i in range(nproc):
            part = items[i * PER_PROCESS:(i + 1) * PER_PROCESS]
            triples = os.path.join(work, "%sfleet-%d.txt" % (tag, i))
            write_triples(triples, part)
            with open(os.path.join(work, "%sfleet-%d.log" % (tag, i)), "wb") as log:
                procs.append(subprocess.Popen(["nice", "-n", str(FLEET_NICE), DEVICE, "--fleet", triples,
                                               "--broker", "127.0.0.1:%d" % port, "--root", roots,
                                               "--init-app", template, "--threads", str(threads)],
                                              stdout=log, stderr=subprocess.STDOUT, env=env))
    except BaseException:
        stop_procs(procs)
        raise
    return procs, nproc * threads


def start_fleet(emu, items, work, flash):
    """Writes every device's flash (the template app, 0.0.1) and starts the
    haas-device --fleet processes against emu.mqtt_port; returns (processes,
    worker threads in all). Also used by bench_rollout.py."""
    roots, template = write_flash(items, flash)
    return launch_fleet(emu.mqtt_port, items, work, roots, template)


def check_fleet(procs):
    for i, p in enumerate(procs):
        if p.poll() is not None:
            raise AssertionError("haas-device fleet process %d exited with %s" % (i, p.returncode))


def check_flash(roots, items, version):
    """Every device's installed app is at version."""
    wrong = []
    for d in items:
        with open(os.path.join(roots, d["deviceName"], "data", "pyamp", "manifest.json")) as f:
            if json.load(f)["version"] != version:
                wrong.append(d["deviceName"])
    assert not wrong, "%d devices not at %s, e.g. %s" % (len(wrong), version, wrong[:5])


# ---- nginx (also used by bench_rollout.py's floor) ----

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


def at_nginx(ng_url, url):
    """haas-emu's package URL url, at the nginx of ng_url (path and query kept)."""
    n, u = urlparse(ng_url), urlparse(url)
    return "http://%s%s?%s" % (n.netloc, u.path, u.query)


def start_mosquitto(work):
    """A plain mosquitto on 127.0.0.1: the managed broker's settings
    (server/src/broker.c), no plugin, anonymous; returns (process, port)."""
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("per_listener_settings false\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n"
                "max_inflight_messages 0\nmax_queued_messages 1000000\nlog_dest stderr\nlog_type error\n"
                "log_type warning\nmessage_size_limit 262144\nlistener %d 127.0.0.1\nmax_qos 1\n" % port)
    with open(os.path.join(work, "mosquitto.log"), "wb") as log:
        proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=log, stderr=subprocess.STDOUT)

    def listening():
        if proc.poll() is not None:
            raise AssertionError("mosquitto exited with %s" % proc.returncode)
        try:
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    try:
        wait_for(listening, timeout=10, what="mosquitto on port %d" % port)
    except BaseException:
        stop_procs([proc])
        raise
    return proc, port


# ---- a haas-emu round ----

def round_deadline(n):
    """Seconds an upgrade round of n devices may take before the bench fails."""
    return int(max(TIMEOUT, ROUND_SECONDS_PER_DEVICE * n))


class CountsPoller:
    """The console's task page while a task runs (web/js/screens/task.js,
    refresh()): the task without its devices (GET /api/v1/tasks/{id}
    ?devices=false, its counts from kept aggregates) and the first page of
    its devices (GET /api/v1/tasks/{id}/devices?offset=0&limit=50), over one
    keep-alive connection. (The page's message log and 3-second timeline
    polls are left out.)"""

    def __init__(self, emu):
        self.port = emu.port
        self.conn = None
        self.polls = 0
        self.seconds = []

    def counts(self, task_id):
        t = time.monotonic()
        task = json.loads(self._get("/api/v1/tasks/%s?devices=false" % task_id))
        page = json.loads(self._get("/api/v1/tasks/%s/devices?offset=0&limit=50" % task_id))
        self.seconds.append(time.monotonic() - t)
        self.polls += 1
        assert task["taskId"] == task_id and "devices" not in task, sorted(task)
        assert page["total"] == task["counts"]["total"] and len(page["items"]) == min(50, page["total"]), page["total"]
        return task["counts"]

    def _get(self, path):
        for attempt in (0, 1):  # one reconnect if haas-emu closed the idle connection
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            try:
                self.conn.request("GET", path)
                resp = self.conn.getresponse()
                body = resp.read()
                assert resp.status == 200, (resp.status, body[:300])
                return body
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def post_push(emu, task_id, n):
    """POST .../push; returns the time it was answered."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/api/v1/tasks/%s/push" % task_id)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 200, (resp.status, body)
    pushed = json.loads(body)
    assert pushed["pushed"] == n and not pushed.get("notSent"), pushed
    return time.monotonic()


def push_and_poll(emu, task_id, n, procs, what):
    """Clock from just before the push to the answer of the first poll that
    shows all n succeeded; polls 50 ms after each answer. Returns (seconds,
    seconds until the POST was answered, the poller)."""
    poller = CountsPoller(emu)
    try:
        poller.counts(task_id)  # the connection is open before the clock starts, as in a console tab
        t0 = time.monotonic()
        t_http = post_push(emu, task_id, n) - t0
        while True:
            counts = poller.counts(task_id)
            now = time.monotonic()
            if counts["succeeded"] == n:
                assert counts["total"] == n and not counts["failed"], counts
                return now - t0, t_http, poller
            if counts["failed"] or now - t0 > round_deadline(n):
                raise AssertionError("%s: after %.1f s (deadline %d s): %s"
                                     % (what, now - t0, round_deadline(n), counts))
            check_fleet(procs)
            time.sleep(POLL_INTERVAL)
    finally:
        poller.close()


def start_perf(pids, n, k, side):
    if not PERF_DIR:
        return None
    os.makedirs(PERF_DIR, exist_ok=True)
    out = os.path.join(PERF_DIR, "perf-%d-%d-%s.data" % (n, k, side))
    proc = subprocess.Popen(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-p",
                             ",".join(str(p) for p in pids), "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # perf attaches
    return proc


def stop_perf(proc):
    if proc:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def emu_round(ctx, k, old, new):
    """One haas-emu round: every device from old to new; returns its numbers."""
    emu, n = ctx["emu"], ctx["n"]
    task_id = make_task(emu, ctx["gid"], new)
    procs, _ = launch_fleet(emu.mqtt_port, ctx["items"], ctx["work"], ctx["roots"], ctx["template"], "r%d-" % k)
    perf = None
    try:
        wait_for(lambda: check_fleet(procs) or online(emu, ctx["pk"]) == n, timeout=TIMEOUT, interval=0.1,
                 what="%d haas-device fleet devices online at haas-emu" % n)
        wait_for(lambda: check_fleet(procs) or versions_known(emu, ctx["pk"], n, old), timeout=TIMEOUT,
                 interval=0.2, what="haas-emu to know version %s of all %d devices" % (old, n))
        mosq = child_pid(emu.proc.pid, "mosquitto")
        assert mosq, "haas-emu's mosquitto not found"
        perf = start_perf([emu.proc.pid, mosq], n, k, "haas-emu")
        cpu0 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq), sum(cpu_seconds(p.pid) for p in procs))
        threads0 = thread_cpu_seconds(emu.proc.pid)
        seconds, http_s, poller = push_and_poll(emu, task_id, n, procs,
                                                "haas-emu round %d, %d devices %s -> %s" % (k + 1, n, old, new))
        cpu1 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq), sum(cpu_seconds(p.pid) for p in procs))
        threads = thread_cpu_by_name(threads0, thread_cpu_seconds(emu.proc.pid), cpu1[0] - cpu0[0])
    finally:
        stop_perf(perf)
        stop_procs(procs)
    check_flash(ctx["roots"], ctx["items"], new)
    wait_for(lambda: online(emu, ctx["pk"]) == 0, timeout=TIMEOUT, interval=0.1,
             what="haas-emu to see the fleet offline")
    cpu = [b - a for a, b in zip(cpu0, cpu1)]
    return {"seconds": seconds, "http": http_s, "polls": poller.polls,
            "poll_ms": statistics.median(poller.seconds) * 1000, "poll_max_ms": max(poller.seconds) * 1000,
            "server_cpu": cpu[0] + cpu[1], "emu_cpu": cpu[0], "mosq_cpu": cpu[1], "fleet_cpu": cpu[2],
            "threads": sorted(threads.items(), key=lambda kv: -kv[1])[:3]}


# ---- a floor round ----

def nginx_pids(master):
    """nginx's master and its workers."""
    return [master] + list(children(master))


def floor_round(ctx, k, old, new, version):
    """One floor round: the same devices from old to new through the plain
    mosquitto, nginx and fleet_floor; returns its numbers."""
    n, work = ctx["n"], ctx["work"]
    counter = Tool([FLOOR_TOOL, "--port", str(ctx["mosq_port"]), "--file", ctx["triples"], "--app", APP_ID,
                    "--from", old, "--to", new, "--url", at_nginx(ctx["ng_url"], version["url"]),
                    "--md5", version["md5"], "--size", str(version["size"]), "--timeout", str(round_deadline(n))],
                   os.path.join(work, "r%d-fleet-floor.log" % k))
    procs, perf = [], None
    try:
        counter.expect("READY", timeout=TIMEOUT)
        procs, _ = launch_fleet(ctx["mosq_port"], ctx["items"], work, ctx["roots"], ctx["template"], "r%d-" % k)
        counter.expect("QUERIED", timeout=TIMEOUT)
        watched = [ctx["mosq"].pid] + nginx_pids(ctx["nginx"].pid) + [counter.proc.pid]
        perf = start_perf(watched, n, k, "floor")
        cpu0 = [cpu_seconds(p) for p in watched] + [sum(cpu_seconds(p.pid) for p in procs)]
        counter.send("GO")
        sent = counter.expect("SENT", timeout=TIMEOUT)
        done = counter.expect("DONE", timeout=round_deadline(n) + 10)
        cpu1 = [cpu_seconds(p) for p in watched] + [sum(cpu_seconds(p.pid) for p in procs)]
        check_fleet(procs)
        bye, rc = counter.quit()
    finally:
        stop_perf(perf)
        stop_procs(procs)
        counter.close()
    assert int(done["n"]) == n and int(bye["results"]) == n and rc == 0, (done, bye, rc)
    check_flash(ctx["roots"], ctx["items"], new)
    cpu = [b - a for a, b in zip(cpu0, cpu1)]
    return {"seconds": (float(done["last_ms"]) - float(sent["t0_ms"])) / 1000,
            "server_cpu": sum(cpu[:-1]), "mosq_cpu": cpu[0], "nginx_cpu": sum(cpu[1:-2]), "counter_cpu": cpu[-2],
            "fleet_cpu": cpu[-1]}


# ---- one N ----

def floor_servers(ctx, versions, stack):
    """Starts the plain mosquitto and nginx (serving haas-emu's package
    files) for the whole N; stack collects them for the clean-up."""
    nginx, ng_url = start_nginx(ctx["emu"], versions[1]["url"], versions[1]["size"], ctx["work"], ctx["n"])
    stack.append(nginx)
    mosq, port = start_mosquitto(ctx["work"])
    stack.append(mosq)
    ctx.update(nginx=nginx, ng_url=ng_url, mosq=mosq, mosq_port=port)


def bench(n, work, rounds):
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu = Emulator("bench-fleet-%d" % n, data_dir=os.path.join(work, "data-%d" % n),
                   env={"HAAS_URL_TTL": "86400"})
    nwork = os.path.join(work, "n%d" % n)
    os.makedirs(nwork)
    flash = tempfile.mkdtemp(prefix="haas-bench-flash-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    servers, failed = [], True
    try:
        emu.start()
        emu.app()
        versions = upload_versions(emu, 2 * rounds)
        pk, gid, items = make_devices(emu, "fleet-%d" % n, n, "f")
        roots, template = write_flash(items, flash)
        ctx = {"emu": emu, "n": n, "work": nwork, "pk": pk, "gid": gid, "items": items, "roots": roots,
               "template": template, "triples": os.path.join(nwork, "devices.txt")}
        write_triples(ctx["triples"], items)
        floor_servers(ctx, versions, servers)
        emu_rounds, floor_rounds = [], []
        for k in range(2 * rounds):
            old, new = "0.0.%d" % (k + 1), versions[k]["version"]
            if k % 2 == 0:
                emu_rounds.append(emu_round(ctx, k, old, new))
            else:
                floor_rounds.append(floor_round(ctx, k, old, new, versions[k]))
        mosq = child_pid(emu.proc.pid, "mosquitto")
        result = {"n": n, "emu": emu_rounds, "floor": floor_rounds, "layout": fleet_layout(n),
                  "hwm": status_kib(emu.proc.pid, "VmHWM"), "mosq_hwm": status_kib(mosq, "VmHWM"),
                  "sizes": sorted({v["size"] for v in versions})}
        failed = False
        return result
    finally:
        stop_procs(servers)
        shutil.rmtree(flash, ignore_errors=True)
        emu.stop(check=not failed)


# ---- report ----

def med(rows, key):
    return statistics.median(r[key] for r in rows)


def span(rows, key, scale=1.0, fmt="%.3f"):
    values = [r[key] * scale for r in rows]
    return (fmt + "-" + fmt) % (min(values), max(values))


def mark(ok):
    return "OK" if ok else "ABOVE GOAL"


def report_heading(rounds):
    print("fleet upgrade: N haas-device --fleet devices (nice %d) move to a new app version (a package with a %d KiB "
          "file): haas-emu (push, downloads, results; the console's task page polled every %d ms) "
          "against the floor, the same fleet and work against a plain mosquitto + nginx + fleet_floor; %d rounds "
          "each, alternating; medians (range); the machine has %d cores:"
          % (FLEET_NICE, PACKAGE_BLOB >> 10, POLL_INTERVAL * 1000, rounds, os.cpu_count()), flush=True)


def report(r):
    """The lines of one N, printed as soon as its rounds are done."""
    e, f, n = r["emu"], r["floor"], r["n"]
    ratio = med(e, "seconds") / med(f, "seconds")
    cpu_ratio = med(e, "server_cpu") / med(f, "server_cpu")
    mib = r["hwm"] / 1024
    procs, threads = r["layout"]
    print("  N=%d (%d fleet processes x %d threads; package sizes %s bytes):"
          % (n, procs, threads, "/".join(str(s) for s in r["sizes"])))
    print("    time, push to the last result: haas-emu %.3f s (%s), floor %.3f s (%s): %.2fx %s (goal <= %.2fx)"
          % (med(e, "seconds"), span(e, "seconds"), med(f, "seconds"), span(f, "seconds"), ratio,
             mark(ratio <= GOAL_RATIO), GOAL_RATIO))
    print("    server CPU: haas-emu + its mosquitto %.2f s (%s), floor mosquitto + nginx + fleet_floor %.2f s (%s); "
          "per device upgrade %.2f ms vs %.2f ms: %.2fx %s (goal <= %.1fx)"
          % (med(e, "server_cpu"), span(e, "server_cpu", fmt="%.2f"), med(f, "server_cpu"),
             span(f, "server_cpu", fmt="%.2f"), med(e, "server_cpu") * 1000 / n, med(f, "server_cpu") * 1000 / n,
             cpu_ratio, mark(cpu_ratio <= GOAL_CPU_RATIO), GOAL_CPU_RATIO))
    print("    haas-emu peak (VmHWM) %.1f MiB%s, its mosquitto %.1f MiB"
          % (mib, " (goal < %d MiB: %s)" % (GOAL_MEMORY_MIB, mark(mib < GOAL_MEMORY_MIB)) if n >= 10000 else "",
             r["mosq_hwm"] / 1024))
    for i, (er, fr) in enumerate(zip(e, f)):
        print("    %d. haas-emu %.3f s: POST .../push answered in %.0f ms, %d polls (median %.1f ms, max %.1f ms); "
              "CPU haas-emu %.2f s (threads: %s) + mosquitto %.2f s; fleet %.2f s"
              % (i + 1, er["seconds"], er["http"] * 1000, er["polls"], er["poll_ms"], er["poll_max_ms"],
                 er["emu_cpu"], ", ".join("%s %.2f" % t for t in er["threads"]), er["mosq_cpu"], er["fleet_cpu"]))
        print("       floor    %.3f s: CPU mosquitto %.2f s + nginx %.2f s + fleet_floor %.2f s; fleet %.2f s"
              % (fr["seconds"], fr["mosq_cpu"], fr["nginx_cpu"], fr["counter_cpu"], fr["fleet_cpu"]), flush=True)


def summary(results):
    """One table of every N (the README's shape)."""
    rows = [("N", "haas-emu", "floor", "ratio (<= %.2fx)" % GOAL_RATIO, "CPU/device haas-emu", "floor",
             "ratio (<= %.1fx)" % GOAL_CPU_RATIO)]
    for r in results:
        e, f, n = r["emu"], r["floor"], r["n"]
        ratio = med(e, "seconds") / med(f, "seconds")
        cpu_ratio = med(e, "server_cpu") / med(f, "server_cpu")
        rows.append(("%d" % n, "%.3f s (%s)" % (med(e, "seconds"), span(e, "seconds")),
                     "%.3f s (%s)" % (med(f, "seconds"), span(f, "seconds")),
                     "%.2fx %s" % (ratio, mark(ratio <= GOAL_RATIO)), "%.2f ms" % (med(e, "server_cpu") * 1000 / n),
                     "%.2f ms" % (med(f, "server_cpu") * 1000 / n),
                     "%.2fx %s" % (cpu_ratio, mark(cpu_ratio <= GOAL_CPU_RATIO))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(w) if i == 0 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        print(("  " + " | ".join(cells)).rstrip())


def parse_args(argv):
    """[--rounds R] [N ...] -> (sizes, rounds)."""
    rounds = ROUNDS
    if argv[:1] == ["--rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    assert rounds >= 1, "--rounds must be at least 1"
    return [int(a) for a in argv] or list(SIZES), rounds


def main():
    sizes, rounds = parse_args(sys.argv[1:])
    for tool in (DEVICE, FLOOR_TOOL):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench needs %s (make; make build/bench/fleet_floor)" % tool)
    for tool in ("nginx", "curl", "mosquitto"):
        if not shutil.which(tool):
            raise SystemExit("bench needs %s (make test-deps installs it)" % tool)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (finally blocks) when stopped
    work = tempfile.mkdtemp(prefix="haas-bench-fleet-")
    failed = True
    try:
        t0 = time.monotonic()
        report_heading(rounds)
        results = []
        for n in sizes:
            results.append(bench(n, work, rounds))
            report(results[-1])
        summary(results)
        print("  (bench wall time %.0f s)" % (time.monotonic() - t0))
        failed = False
    finally:
        if failed:
            print("bench_fleet failed; logs kept in %s and tests/out/logs/bench-fleet-*.log" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
