#!/usr/bin/env python3
"""100,000 devices on one machine (`make bench-100k`, issue 14): logins, push
fan-out, memory and the REST API's latency, each next to its floor measured
in the same run.

One haas-emu (release build) gets one product with 100,000 devices (REST,
batches of 10,000), all of them in one group, the app with version 0.0.2 and
one task for the group. Next to it runs a plain mosquitto with no plugin: the
global and listener settings of haas-emu's own broker configuration (read
from <data-dir>/broker/mosquitto.conf) without the plugin, anonymous, with
`max_connections -1`, on its own 127.0.0.1 port. build/bench/mqtt_swarm
(see the top of tests/bench/mqtt_swarm.c) holds the device connections: one
process per broker, each device logging in as Link SDK C 4.x does with its
real DeviceSecret, then subscribing to its push topic, WINDOW logins in
flight; its sockets are bound to 127.0.0.2, 127.0.0.3, ... (16,384 devices
per source address) so that 100,000 connections to one port do not run out
of ephemeral ports.

  1. CONNECT rate: N devices log in to the plain mosquitto (the floor), then
     the same N devices to haas-emu's broker (plugin: HMAC check against the
     database, ACL, online status to haas-emu); CONNACKs per second for all N.
     Then all log out (haas-emu sees them offline) and in again, haas-emu
     first this time. Best round of each; goal: haas-emu >= 0.8x the floor.
  2. Push fan-out, ROUNDS rounds each, alternating, no API requests
     meanwhile: haas-emu from just before POST /api/v1/tasks/{id}/push until
     the last connected device has its push; the floor from just before one
     client publishes the same number of messages of the same size (QoS 1)
     to the same push topics through the plain mosquitto until the last
     device has its message. A round counts only if every device got exactly
     one message. Goal: median <= 1.2x.
  3. Peak memory (VmHWM) of haas-emu and of its mosquitto, next to the plain
     mosquitto holding the same connections. Goal: haas-emu < 256 MiB.
  4. REST API latency while haas-emu's pushes run: one client, as a console
     polling its views, asks for each page in turn (the task list with its
     counts; pages of 50 of the task's devices, GET /api/v1/tasks/{id}/devices,
     and of the product's devices at the start, middle and end of the
     100,000; the task's pushed devices; the product's online count), one
     request at a time on a keep-alive connection, in full cycles started
     from just before the POST until the last device has its push and the
     POST is answered, in ROUNDS more pushes after those of 2.; p50/p99 per
     page over these rounds, next to IDLE_CYCLES cycles with no push
     running. Goal: p99 < 50 ms for every page.
  5. Package downloads after a second task's first push (to the same
     group, with the same package): DOWNLOADS requests for the first 100
     bytes of the package from a device's address (DEVICE_SOURCE, which
     thousands of the connected devices share) and from one with no device;
     p50/p99 of each. Every download looks up the device it is for
     (store_download_owner) among the rows the tasks moved on, while 80% of
     the new task's rows, as new as the rest, are offline. No goal.

Descriptors: mosquitto needs one per connected device, the swarm too. The
driver raises RLIMIT_NOFILE (soft and hard, inherited by haas-emu, its
mosquitto, the plain mosquitto and the swarms) to N + DESCRIPTOR_SPARE.
Raising the hard limit needs CAP_SYS_RESOURCE (root on a normal host) and
stays below /proc/sys/fs/nr_open. Where it cannot be raised (a container
without CAP_SYS_RESOURCE), the bench connects as many devices as the hard
limit allows (limit - DESCRIPTOR_SPARE) and says so at the top and bottom of
its report; the database, the group and the pushed task still hold all
100,000 devices (the others are recorded offline by each push).

Every process it starts is stopped at the end, also on failure, Ctrl-C or
SIGTERM; its work directory is removed, except the logs when a check failed.

With --perf, `perf record` samples haas-emu and its mosquitto during their
logins and during the push rounds of 2. (both are idle in the floor's
rounds), and the report ends with the top symbols of each.

Usage: bench_100k.py [N] [--perf]   (N: devices connected, default 100000)
"""
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, free_port, make_package, package_name, wait_for  # noqa: E402
from procs import ENDED, child_pid, cpu_seconds, status_kib, stop_procs, thread_cpu_seconds  # noqa: E402
from bench_push import Tool, check_round  # noqa: E402

SWARM = os.path.join(ROOT, "build", "bench", "mqtt_swarm")
DEVICES = 100000
BATCH = 10000              # devices per POST .../devices (SERVICE_MAX_BATCH) and per group POST
ROUNDS = 3
CONNECT_ROUNDS = 2         # logins of all devices to each broker, the order alternating
WINDOW = 100               # logins in flight at once
TIMEOUT = 240              # seconds: any single step (creating devices, connecting, one round)
DESCRIPTOR_SPARE = 200     # descriptors a broker needs besides its device connections
IDLE_CYCLES = 10           # times each page is asked for with no push running
GOAL_CONNECT = 0.8
GOAL_PUSH = 1.2
GOAL_MEMORY_MIB = 256
GOAL_P99_MS = 50.0




def mark(ok):
    return "OK" if ok else "ABOVE GOAL"


# ---- descriptors ----

def raise_nofile(want):
    """Raises RLIMIT_NOFILE to want (soft and hard) if the kernel lets us,
    else the soft limit to the hard one; returns (limit now, why not raised
    or None)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard >= want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want, None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        return want, None
    except (ValueError, OSError) as e:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard, "the hard limit %d cannot be raised to %d (%s: raising it needs CAP_SYS_RESOURCE)" % (
            hard, want, e)


# ---- the plain mosquitto ----

FLOOR_DROP = ("plugin", "allow_anonymous", "listener", "certfile", "keyfile", "max_qos", "max_connections")


def floor_config(emu, port, path):
    """haas-emu's broker configuration without the plugin and its listeners,
    anonymous, no connection limit, one plain listener on 127.0.0.1:port."""
    with open(os.path.join(emu.data_dir, "broker", "mosquitto.conf")) as f:
        kept = [line for line in f if line.strip() and not line.startswith("#")
                and not line.split()[0].startswith(FLOOR_DROP)]
    with open(path, "w") as f:
        f.write("".join(kept))
        f.write("allow_anonymous true\nmax_connections -1\nlistener %d 127.0.0.1\nmax_qos 1\n" % port)


def start_floor_broker(emu, work, procs):
    port = free_port()
    conf = os.path.join(work, "floor-mosquitto.conf")
    floor_config(emu, port, conf)
    log = open(os.path.join(work, "floor-mosquitto.log"), "wb")
    proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    procs.append(proc)

    def listening():
        if proc.poll() is not None:
            raise AssertionError("the plain mosquitto exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(listening, what="the plain mosquitto on port %d" % port)
    return proc, port


# ---- haas-emu fixtures ----

def make_fleet(emu, total):
    """The app and version 0.0.2, a product with total devices, a group of
    them all and a task; returns (pk, task id, device items, the package's
    download path and query)."""
    emu.app()
    r = emu.upload(APP_ID, package_name("0.0.2"), make_package({}, version="0.0.2"))
    assert r.status == 201, r
    url = urlparse(r.json["url"])
    pk = emu.product("bench-100k")
    items = []
    for i in range(0, total, BATCH):
        n = min(BATCH, total - i)
        r = emu.post("/api/v1/products/%s/devices" % pk, {"count": n, "prefix": "d%d-" % (i // BATCH)},
                     timeout=TIMEOUT)
        assert r.status == 201 and len(r.json["items"]) == n, r
        items += r.json["items"]
    gid = emu.post("/api/v1/groups", {"name": "bench-100k"}).json["groupId"]
    for i in range(0, total, BATCH):
        members = [{"productKey": d["productKey"], "deviceName": d["deviceName"]} for d in items[i:i + BATCH]]
        r = emu.post("/api/v1/groups/%s/devices" % gid, {"devices": members}, timeout=TIMEOUT)
        assert r.status == 200, r
    r = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid})
    assert r.status == 201, r
    assert r.json["counts"]["total"] == total, r.json["counts"]
    return pk, r.json["taskId"], items, "%s?%s" % (url.path, url.query)


def write_triples(path, items):
    with open(path, "w") as f:
        for d in items:
            f.write("%s %s %s\n" % (d["productKey"], d["deviceName"], d["deviceSecret"]))


def online(emu, pk):
    return emu.get("/api/v1/products/%s/devices?status=online&limit=1" % pk).json["total"]


# ---- the swarms ----

def connect_swarm(port, triples, n, work, tag):
    """An mqtt_swarm devices process with n devices logged in to port and
    subscribed; returns (the Tool, CONNECTED fields, SUBSCRIBED fields)."""
    tool = Tool([SWARM, "devices", "--port", str(port), "--file", triples, "--count", str(n),
                 "--window", str(WINDOW), "--timeout", str(TIMEOUT)], os.path.join(work, "swarm-%s.log" % tag))
    try:
        connected = tool.expect("CONNECTED", timeout=TIMEOUT)
        subscribed = tool.expect("SUBSCRIBED", timeout=TIMEOUT)
        tool.expect("READY", timeout=TIMEOUT)
        assert int(connected["n"]) == n and int(subscribed["n"]) == n, (connected, subscribed)
        return tool, connected, subscribed
    except BaseException:
        tool.close()
        raise


def connect_floor(floor_mosq, port, triples, n, work, i, tools):
    """The n devices logged in to the plain mosquitto; returns (swarm, {rate, ms, cpu})."""
    cpu0 = cpu_seconds(floor_mosq.pid)
    swarm, connected, _ = connect_swarm(port, triples, n, work, "floor-%d" % i)
    tools.append(swarm)
    cpu = (cpu_seconds(floor_mosq.pid) - cpu0, cpu_seconds(swarm.proc.pid))
    return swarm, {"rate": float(connected["rate"]), "ms": float(connected["ms"]), "cpu": cpu}


def connect_emu(emu, emu_mosq, pk, triples, n, work, i, tools):
    """The n devices logged in to haas-emu's broker and seen online by its API;
    returns (swarm, {rate, ms, cpu, online_after_s})."""
    cpu0 = (cpu_seconds(emu.proc.pid), cpu_seconds(emu_mosq))
    swarm, connected, _ = connect_swarm(emu.mqtt_port, triples, n, work, "emu-%d" % i)
    tools.append(swarm)
    cpu = (cpu_seconds(emu.proc.pid) - cpu0[0], cpu_seconds(emu_mosq) - cpu0[1], cpu_seconds(swarm.proc.pid))
    t = time.monotonic()
    wait_for(lambda: online(emu, pk) == n, timeout=TIMEOUT, interval=0.1, what="haas-emu to see %d devices online" % n)
    return swarm, {"rate": float(connected["rate"]), "ms": float(connected["ms"]), "cpu": cpu,
                   "online_after_s": time.monotonic() - t}


def quit_swarm(tool, rounds, n):
    bye, rc = tool.quit()
    assert rc == 0 and int(bye["rounds"]) == rounds and int(bye["received"]) == rounds * n, (bye, rc)
    return bye


# ---- REST API latency ----

def api_pages(pk, task_id, n, total):
    """(name, path, the answer's "total", None when it varies) of every page
    asked for: pages of 50 at the start, the middle and the end of the
    100,000, and the counts."""
    last = max(0, (total - 1) // 50 * 50)
    middle = last // 100 * 50
    task, devices = "/api/v1/tasks/%s/devices" % task_id, "/api/v1/products/%s/devices" % pk
    return [
        ("task list + counts", "/api/v1/tasks?appId=%s&limit=50" % APP_ID, 1),
        ("task devices, first", "%s?offset=0&limit=50" % task, total),
        ("task devices, middle", "%s?offset=%d&limit=50" % (task, middle), total),
        ("task devices, last", "%s?offset=%d&limit=50" % (task, last), total),
        ("task devices, pushed", "%s?state=pushed&offset=0&limit=50" % task, None),
        ("devices, first", "%s?offset=0&limit=50" % devices, total),
        ("devices, middle", "%s?offset=%d&limit=50" % (devices, middle), total),
        ("devices, last", "%s?offset=%d&limit=50" % (devices, last), total),
        ("devices online count", "%s?status=online&limit=1" % devices, n),
    ]


class Sampler:
    """One thread asking for every page in turn, one request at a time on a
    keep-alive connection (a console polling its views), until stop() or
    until it has gone through the pages `cycles` times; keeps (ms, bytes)
    per answer and page."""

    def __init__(self, port, pages, cycles=None):
        self.port, self.pages, self.cycles = port, pages, cycles
        self.samples = {name: [] for name, _, _ in pages}
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _get(self, conn, path, total, check):
        """One request: (ms, bytes); check: also that the answer is the page wanted."""
        t0 = time.monotonic()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        ms = (time.monotonic() - t0) * 1000
        if resp.status != 200:
            raise AssertionError("GET %s: %d %s" % (path, resp.status, body[:200]))
        if check:
            page = json.loads(body)
            assert page["items"] and (total is None or page["total"] == total), (path, total, body[:300])
        return ms, len(body)

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        cycle = 0
        try:
            while not self.stopping.is_set() and (self.cycles is None or cycle < self.cycles):
                for name, path, total in self.pages:
                    self.samples[name].append(self._get(conn, path, total, not self.samples[name]))
                cycle += 1
        except Exception as e:  # reported by stop()
            self.errors.append(repr(e))
        finally:
            conn.close()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        """Stops after the request in flight (or waits for the cycles); checks every answer."""
        if self.cycles is None:
            self.stopping.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the API sampler hangs"
        assert not self.errors, self.errors


def merge_samples(into, sampler):
    for name, got in sampler.samples.items():
        into.setdefault(name, []).extend(got)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


# ---- one push round of each kind ----

def emu_round(emu, swarm, task_id, n, total, sampler=None):
    """A push through haas-emu, with sampler (a Sampler, not started) asking
    for API pages meanwhile if given; returns (ms until the last device had
    it, ms until the POST was answered, DONE fields)."""
    swarm.send("ROUND")
    swarm.expect("ARMED")
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=TIMEOUT)
    conn.connect()
    if sampler:
        sampler.start()
    try:
        t0 = time.monotonic() * 1000
        conn.request("POST", "/api/v1/tasks/%s/push" % task_id)
        resp = conn.getresponse()
        body = resp.read()
        t_http = time.monotonic() * 1000
        assert resp.status == 200, (resp.status, body)
        pushed = json.loads(body)
        assert pushed["pushed"] == n and pushed["offline"] == total - n and not pushed["notSent"], pushed
        done = swarm.expect("DONE", timeout=TIMEOUT)
    finally:
        if sampler:
            sampler.stop()
        conn.close()
    check_round(done, n)
    return float(done["last_ms"]) - t0, t_http - t0, done


def floor_round(publisher, swarm, n):
    """One floor round; returns ms from the first publish until the last device had its message."""
    swarm.send("ROUND")
    swarm.expect("ARMED")
    publisher.send("GO")
    sent = publisher.expect("SENT", timeout=TIMEOUT)
    done = swarm.expect("DONE", timeout=TIMEOUT)
    check_round(done, n)
    assert int(sent["n"]) == n, sent
    return float(done["last_ms"]) - float(sent["t0_ms"])


class CpuWatch:
    """CPU seconds of haas-emu's threads and of a few processes over the rounds of one kind; the
    threads that ended within a round (each push runs on a thread of its own, http-aside) are
    summed as procs.ENDED."""

    def __init__(self, emu_pid, pids):
        self.emu_pid, self.pids = emu_pid, pids
        self.threads, self.procs = {}, {p: 0.0 for p in pids}

    def __enter__(self):
        self.e0 = cpu_seconds(self.emu_pid)
        self.t0 = thread_cpu_seconds(self.emu_pid)
        self.p0 = {p: cpu_seconds(p) for p in self.pids}
        return self

    def __exit__(self, *exc):
        live = 0.0
        for tid, (name, cpu) in thread_cpu_seconds(self.emu_pid).items():
            key = "%s/%s" % (name, tid)
            spent = cpu - self.t0.get(tid, ("", 0.0))[1]
            self.threads[key] = self.threads.get(key, 0.0) + spent
            live += spent
        # threads that ended within the round (each push runs on its own)
        self.threads[ENDED] = self.threads.get(ENDED, 0.0) + max(cpu_seconds(self.emu_pid) - self.e0 - live, 0.0)
        for p in self.pids:
            self.procs[p] += cpu_seconds(p) - self.p0[p]


DEVICE_SOURCE = "127.0.0.2"  # mqtt_swarm's first source address: every K-th device logs in from it
DOWNLOADS = 200              # package downloads timed from each address


def group_of(emu, task_id):
    r = emu.get("/api/v1/tasks/%s?devices=false" % task_id)
    assert r.status == 200, r
    return r.json["groupId"]


def download_times(port, path, source):
    """Milliseconds of DOWNLOADS requests for the first 100 bytes of the package
    (Range, keep-alive, one at a time) from the local address source. A
    download is noted in the task's timeline under the device that most
    likely made it: the newest row at that address among the package's
    tasks (store_download_owner), looked up on every request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT, source_address=(source, 0))
    times = []
    try:
        for _ in range(DOWNLOADS):
            t = time.monotonic()
            conn.request("GET", path, headers={"Range": "bytes=0-99"})
            resp = conn.getresponse()
            body = resp.read()
            times.append((time.monotonic() - t) * 1000)
            assert resp.status == 206 and len(body) == 100, (resp.status, len(body))
    finally:
        conn.close()
    return times


# ---- the run ----

def memory_step(what, emu_pid, mosq_pid):
    """(what, haas-emu's VmHWM, VmRSS, its mosquitto's VmHWM), in KiB."""
    return what, status_kib(emu_pid, "VmHWM"), status_kib(emu_pid, "VmRSS"), status_kib(mosq_pid, "VmHWM")


def start_perf(work, tag, pids, procs):
    """perf record (no call graphs) of pids until stop_perf()."""
    proc = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-o", os.path.join(work, "perf-%s.data" % tag), "-p",
                             ",".join(str(p) for p in pids)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(proc)
    return proc


def stop_perf(proc, work, tag, top=20):
    """Stops perf record; returns the top lines of its report (command, object, symbol)."""
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=TIMEOUT)
    out = subprocess.run(["perf", "report", "-i", os.path.join(work, "perf-%s.data" % tag), "--stdio", "--no-children",
                          "--sort", "comm,dso,sym", "--percent-limit", "0.7"],
                         capture_output=True, text=True, timeout=TIMEOUT).stdout
    return [line for line in out.splitlines() if line.strip() and not line.startswith("#")][:top]


def run(n, total, work, procs, tools, perf=False):
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu = Emulator("bench-100k", data_dir=os.path.join(work, "data"))
    r = {"n": n, "total": total, "perf": perf}
    failed = True
    try:
        emu.start()
        t = time.monotonic()
        pk, task_id, items, package = make_fleet(emu, total)
        r["setup_s"] = time.monotonic() - t
        emu_mosq = child_pid(emu.proc.pid, "mosquitto")
        assert emu_mosq, "no mosquitto child of haas-emu"
        r["hwm_steps"] = [memory_step("devices made", emu.proc.pid, emu_mosq)]
        triples = os.path.join(work, "devices.txt")
        write_triples(triples, items[:n])
        floor_mosq, floor_port = start_floor_broker(emu, work, procs)

        r["connect"] = {"emu": [], "floor": []}
        emu_swarm = floor_swarm = None
        for i in range(CONNECT_ROUNDS):
            if i:
                for swarm in (emu_swarm, floor_swarm):
                    quit_swarm(swarm, 0, n)
                wait_for(lambda: online(emu, pk) == 0, timeout=TIMEOUT, interval=0.1,
                         what="haas-emu to see every device offline")
            for side in (("floor", "emu") if i % 2 == 0 else ("emu", "floor")):
                if side == "floor":
                    floor_swarm, got = connect_floor(floor_mosq, floor_port, triples, n, work, i, tools)
                else:
                    profiler = start_perf(work, "connect", [emu.proc.pid, emu_mosq], procs) if r["perf"] and not i \
                        else None
                    emu_swarm, got = connect_emu(emu, emu_mosq, pk, triples, n, work, i, tools)
                    if profiler:
                        r["perf_top"] = [("the first logins", stop_perf(profiler, work, "connect"))]
                r["connect"][side].append(got)
        r["hwm_steps"].append(memory_step("devices online", emu.proc.pid, emu_mosq))

        r["emu"], r["http"], r["floor"] = [], [], []
        publisher = None
        emu_cpu = CpuWatch(emu.proc.pid, [emu.proc.pid, emu_mosq, emu_swarm.proc.pid])
        floor_cpu = CpuWatch(emu.proc.pid, [floor_mosq.pid, floor_swarm.proc.pid])
        profiler = start_perf(work, "push", [emu.proc.pid, emu_mosq], procs) if r["perf"] else None
        for _ in range(ROUNDS):
            with emu_cpu:
                ms, http_ms, done = emu_round(emu, emu_swarm, task_id, n, total)
            r["emu"].append(ms)
            r["http"].append(http_ms)
            if publisher is None:  # the floor sends what a real push weighs
                r["size"] = int(done["bytes"])
                publisher = Tool([SWARM, "floor", "--port", str(floor_port), "--file", triples, "--count", str(n),
                                  "--size", str(r["size"]), "--timeout", str(TIMEOUT)],
                                 os.path.join(work, "floor-publisher.log"))
                tools.append(publisher)
                publisher.expect("READY", timeout=TIMEOUT)
            with floor_cpu:
                r["floor"].append(floor_round(publisher, floor_swarm, n))
        r["emu_cpu"], r["floor_cpu"] = emu_cpu, floor_cpu
        if profiler:
            r["perf_top"].append(("the push rounds of 2.", stop_perf(profiler, work, "push")))
        r["hwm_steps"].append(memory_step("pushes done", emu.proc.pid, emu_mosq))

        pages = api_pages(pk, task_id, n, total)
        idle = Sampler(emu.port, pages, cycles=IDLE_CYCLES).start()
        idle.stop()
        r["idle"], r["busy"], r["emu_api"] = {}, {}, []
        merge_samples(r["idle"], idle)
        r["hwm_steps"].append(memory_step("API pages asked", emu.proc.pid, emu_mosq))
        for _ in range(ROUNDS):
            sampler = Sampler(emu.port, pages)
            r["emu_api"].append(emu_round(emu, emu_swarm, task_id, n, total, sampler)[0])
            merge_samples(r["busy"], sampler)
        r["hwm_steps"].append(memory_step("pushes with API pages done", emu.proc.pid, emu_mosq))
        # a new task's first push records the offline members after the online ones, in the same second
        second = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": group_of(emu, task_id)})
        assert second.status == 201, second
        emu_round(emu, emu_swarm, second.json["taskId"], n, total)
        r["downloads"] = {where: download_times(emu.port, package, source)
                          for where, source in (("a device's address", DEVICE_SOURCE), ("no device's", "127.0.0.1"))}
        r["pids"] = {"haas-emu": emu.proc.pid, "its mosquitto": emu_mosq, "plain mosquitto": floor_mosq.pid,
                     "swarm (haas-emu)": emu_swarm.proc.pid, "swarm (floor)": floor_swarm.proc.pid}
        r["hwm"] = {name: status_kib(pid, "VmHWM") for name, pid in r["pids"].items()}
        r["fds"] = {name: len(os.listdir("/proc/%d/fd" % pid)) for name, pid in r["pids"].items()}
        r["emu_bye"] = quit_swarm(emu_swarm, 2 * ROUNDS + 1, n)
        quit_swarm(floor_swarm, ROUNDS, n)
        bye, rc = publisher.quit()
        assert rc == 0 and int(bye["rounds"]) == ROUNDS, (bye, rc)
        failed = False
        return r
    finally:
        for tool in tools:
            tool.close()
        stop_procs(procs)
        emu.stop(check=not failed)


# ---- the report ----

def report(r, limit_note):
    med = statistics.median
    n, total = r["n"], r["total"]
    if limit_note:
        print("NOTE: %d of %d devices connected, not %d: %s." % (n, total, total, limit_note))
    print("100k bench: %d devices in haas-emu (made in %.1f s), %d of them connected at once to each broker; "
          "%d logins in flight; %d cores" % (total, r["setup_s"], n, WINDOW, os.cpu_count()))

    ec, fc = r["connect"]["emu"], r["connect"]["floor"]
    best_e, best_f = max(ec, key=lambda c: c["rate"]), max(fc, key=lambda c: c["rate"])
    ratio = best_e["rate"] / best_f["rate"]
    print("\n1. CONNECT rate, %d Link SDK C logins (CONNACKs/s for all, each device then subscribing; best of %d "
          "rounds, the order alternating, floor first):" % (n, CONNECT_ROUNDS))
    print("  %-34s %14s %14s %8s" % ("", "haas-emu", "floor", "ratio"))
    print("  %-34s %10.0f /s  %10.0f /s  %6.2fx  (goal >= %.1fx) %s"
          % ("CONNACKs per second", best_e["rate"], best_f["rate"], ratio, GOAL_CONNECT, mark(ratio >= GOAL_CONNECT)))
    print("  %-34s %11.2f s  %11.2f s" % ("all CONNACKs after", best_e["ms"] / 1000, best_f["ms"] / 1000))
    print("  %-34s %14s %14s" % ("rounds", " ".join("%.0f" % c["rate"] for c in ec),
                                 " ".join("%.0f" % c["rate"] for c in fc)))
    print("  CPU while logging in (best round): haas-emu %.2f s + its mosquitto %.2f s (swarm %.2f s); floor: "
          "mosquitto %.2f s (swarm %.2f s)" % (best_e["cpu"] + best_f["cpu"]))
    print("  haas-emu's API showed all %d online %.2f s after the last SUBACK"
          % (n, best_e["online_after_s"]))

    ratio = med(r["emu"]) / med(r["floor"])
    print("\n2. Push fan-out until every connected device has it (%d-byte messages, QoS 1, %d rounds each, "
          "alternating; the group has all %d devices, %d recorded offline per push):"
          % (r["size"], ROUNDS, total, total - n))
    print("  %-34s %14s %14s %8s" % ("", "haas-emu", "floor", "ratio"))
    print("  %-34s %11.0f ms %11.0f ms  %6.2fx  (goal <= %.1fx) %s"
          % ("median", med(r["emu"]), med(r["floor"]), ratio, GOAL_PUSH, mark(ratio <= GOAL_PUSH)))
    print("  %-34s %11.0f ms %11.0f ms" % ("best", min(r["emu"]), min(r["floor"])))
    print("  %-34s %11.0f ms" % ("POST .../push answered (median)", med(r["http"])))
    print("  %-34s %11.0f ms" % ("median with the API polled (4.)", med(r["emu_api"])))
    report_cpu(r)

    hwm = {k: v / 1024 for k, v in r["hwm"].items()}
    print("\n3. Peak memory (VmHWM) at the end:")
    print("  %-34s %14s %14s %8s" % ("", "haas-emu", "floor", "ratio"))
    print("  %-34s %10.1f MiB %14s %8s  (goal < %d MiB) %s"
          % ("haas-emu", hwm["haas-emu"], "-", "", GOAL_MEMORY_MIB, mark(hwm["haas-emu"] < GOAL_MEMORY_MIB)))
    print("  %-34s %10.1f MiB %10.1f MiB  %6.2fx"
          % ("mosquitto", hwm["its mosquitto"], hwm["plain mosquitto"], hwm["its mosquitto"] / hwm["plain mosquitto"]))
    print("  %-34s %10.1f MiB %10.1f MiB" % ("mqtt_swarm", hwm["swarm (haas-emu)"], hwm["swarm (floor)"]))
    print("  haas-emu VmHWM / VmRSS and its mosquitto's VmHWM after each step: %s" % "; ".join(
        "%s %.0f / %.0f MiB, %.0f MiB" % (what, a / 1024, b / 1024, c / 1024) for what, a, b, c in r["hwm_steps"]))
    print("  descriptors open: %s" % ", ".join("%s %d" % kv for kv in r["fds"].items()))

    print("\n4. REST API latency while haas-emu pushes (one client asking for each page in turn, keep-alive; "
          "%d rounds), next to the same pages with no push running:" % ROUNDS)
    print("  %-22s %6s %8s %8s   %6s %8s %8s %6s  %9s" % ("page", "n", "p50", "p99", "idle n", "p50", "p99",
                                                       "ratio", "bytes"))
    for name, busy in r["busy"].items():
        idle = [ms for ms, _ in r["idle"][name]]
        ms = [m for m, _ in busy]
        p99 = percentile(ms, 99)
        print("  %-22s %6d %5.1f ms %5.1f ms   %6d %5.1f ms %5.1f ms %5.2fx  %9d  (goal p99 < %.0f ms) %s"
              % (name, len(ms), percentile(ms, 50), p99, len(idle), percentile(idle, 50), percentile(idle, 99),
                 p99 / max(percentile(idle, 99), 1e-9), max(b for _, b in busy), GOAL_P99_MS,
                 mark(p99 < GOAL_P99_MS)))
    print("\n5. Package downloads after a second task's first push to the group (the first 100 bytes, Range, keep-alive, "
          "%d one at a time from each address; each is noted under the device at that address a task moved last):"
          % DOWNLOADS)
    print("  %-28s %8s %8s" % ("from", "p50", "p99"))
    for where, ms in r["downloads"].items():
        print("  %-28s %5.2f ms %5.2f ms" % (where, percentile(ms, 50), percentile(ms, 99)))
    for what, lines in r.get("perf_top", []):
        print("\nperf record -F 999 of haas-emu and its mosquitto during %s (share of samples; thread, object, "
              "symbol):" % what)
        for line in lines:
            print("  " + line.strip())
    if limit_note:
        print("\nNOTE: measured with %d connected devices, not %d (see above)." % (n, total))


def report_cpu(r):
    ec, fc = r["emu_cpu"], r["floor_cpu"]
    pids = r["pids"]
    print("  CPU over the %d rounds: haas-emu %.2f s + its mosquitto %.2f s (swarm %.2f s); floor: mosquitto "
          "%.2f s (swarm %.2f s)" % (ROUNDS, ec.procs[pids["haas-emu"]], ec.procs[pids["its mosquitto"]],
                                     ec.procs[pids["swarm (haas-emu)"]], fc.procs[pids["plain mosquitto"]],
                                     fc.procs[pids["swarm (floor)"]]))
    busiest = sorted(ec.threads.items(), key=lambda kv: -kv[1])[:4]
    print("  haas-emu's busiest threads in its rounds: %s" % ", ".join("%s %.2f s" % kv for kv in busiest))


def interrupted(signum, frame):
    """SIGTERM unwinds like Ctrl-C, through every cleanup."""
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    total = DEVICES
    args = [a for a in sys.argv[1:] if a != "--perf"]
    want = int(args[0]) if args else total
    for tool in (SWARM, os.path.join(ROOT, "build", "haas-emu")):
        if not os.access(tool, os.X_OK):
            raise SystemExit("bench needs %s (make all build/bench/mqtt_swarm)" % tool)
    limit, why = raise_nofile(want + DESCRIPTOR_SPARE)
    n = min(want, limit - DESCRIPTOR_SPARE)
    note = why if n < want else None
    signal.signal(signal.SIGTERM, interrupted)
    work = tempfile.mkdtemp(prefix="haas-bench-100k-")
    procs, tools = [], []
    t0 = time.monotonic()
    try:
        result = run(n, total, work, procs, tools, perf="--perf" in sys.argv[1:])
        report(result, note)
        print("\nbench_100k: %.0f s in all" % (time.monotonic() - t0))
    except AssertionError:
        keep_logs_only(work)
        print("bench_100k failed; logs kept in %s and tests/out/logs/bench-100k.log" % work, file=sys.stderr)
        raise
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


def keep_logs_only(work):
    """Removes everything but the *.log files of work (the database of 100,000 devices, perf data, triples)."""
    for entry in os.listdir(work):
        path = os.path.join(work, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif not entry.endswith(".log"):
            os.unlink(path)


if __name__ == "__main__":
    main()
