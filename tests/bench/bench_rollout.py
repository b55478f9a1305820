#!/usr/bin/env python3
"""Staged rollout (issue 17): an app release rolled out by haas-emu's rollout
engine to N = 1,000 simulated devices (haas-device --fleet) in 4 batches of
250, next to its floor measured in the same run: the same fleet doing the
same upgrade in 4 waves of 250 without haas-emu.

haas-emu: a fresh haas-emu (release build) gets one product with N devices,
          the app, version 0.0.2 (a package with a 64 KiB random file, as in
          bench_fleet.py). The fleet is bench_fleet.py's (same processes,
          threads, nice level, tmpfs flash holding the app at 0.0.1), with
          the devices dealt out so that each batch is spread over all fleet
          processes (spread(): the rollout fills its batches in device-name
          order; 250 consecutive devices would be one process). Once
          every device is online and haas-emu knows its version, the clock
          starts just before POST /api/v1/rollouts (kind app, target the
          product, srcVersions 0.0.1, batches 250,250,250,250, default
          thresholds: every device must succeed, no failure allowed) and
          stops when haas-emu's log shows "rollout <id> completed" (read
          every 5 ms; no API polling during the rollout, whose answers walk
          the device rows). GET /api/v1/rollouts/{id} then must show status
          completed, N succeeded and 4 batches of 250. The engine pushes each
          batch, each device downloads the package from haas-emu, verifies,
          installs, reboots, reconnects and reports app.result 200, which
          haas-emu records; the next batch starts on a later engine step
          (4 a second).
          CPU: utime + stime (/proc/<pid>/stat) of haas-emu, and of its
          managed mosquitto, from just before the POST to completion.
          Peak: VmHWM of haas-emu (and of its mosquitto) at completion.

floor:    haas-emu is stopped. A plain mosquitto (the managed broker's
          settings, no auth plugin) on 127.0.0.1 and nginx serving the very
          same package file at the same path (bench_fleet.start_nginx). The
          same N device identities run again in the same fleet layout, from
          a fresh flash holding 0.0.1, connected to that mosquitto. This
          script (paho-mqtt, one connection) subscribes to the devices'
          results and queries; once every device has sent its query (it is
          online and subscribed), the clock starts and it publishes the push
          message haas-emu sends (same JSON, package URL at nginx; built
          before the clock starts), QoS 1, to the 250 devices of wave 1 (the
          devices of the rollout's batch 1), waits for their 250 app.result
          200, then wave 2, ... ; the clock stops at the last result of
          wave 4. That is the same device work
          (download, verify, install, reboot, reconnect, report) without the
          rollout engine, its database and its 4-a-second steps.
          CPU: mosquitto + nginx (master and workers) + this script's
          process (it plays the engine), over the same span. Peak: VmHWM of
          mosquitto + nginx (this script, a Python interpreter, is left out
          of the peak and shown apart).

Each of ROUNDS rounds is a fresh haas-emu and its rollout, then the floor;
the table shows medians and ranges, and every round's detail.

The bench fails (AssertionError) when the rollout does not complete within
ROLLOUT_DEADLINE seconds, pauses itself, or ends with a device not
succeeded, and likewise when a floor wave misses its deadline.

Usage: bench_rollout.py [N [ROUNDS]]   (default: 1000 5; N divisible by 4)
"""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, free_port, make_package, package_name, wait_for  # noqa: E402
from bench_fleet import (DEVICE, FLEET_NICE, PACKAGE_BLOB, TIMEOUT, check_fleet, child_pid, cpu_seconds,  # noqa: E402
                         fleet_layout, make_devices, online, start_fleet, start_nginx, status_kib, stop_procs,
                         versions_known)

import paho.mqtt.client as mqtt  # noqa: E402

N = 1000
BATCHES = 4
ROLLOUT_DEADLINE = 300   # seconds from the POST until completed, else the bench fails
WAVE_DEADLINE = 120      # seconds for one floor wave
LOG_INTERVAL = 0.005     # seconds between looks at haas-emu's log
SETTLE = 0.5             # seconds of quiet before either clock starts
ROUNDS = 5               # haas-emu then floor, each round from scratch; medians reported


class RolloutLog:
    """Follows haas-emu's log for one rollout's lines: "batch k starts",
    "completed", "paused: ..."; records when each was first seen."""

    def __init__(self, path):
        self.f = open(path, "rb")
        self.f.seek(0, os.SEEK_END)
        self.rest = b""
        self.rid = None
        self.batch_seen = {}
        self.completed = None
        self.paused = None

    def poll(self):
        data = self.rest + self.f.read()
        cut = data.rfind(b"\n") + 1
        lines, self.rest = data[:cut], data[cut:]
        if not self.rid:  # before the rollout exists: nothing to look for
            return
        now = time.monotonic()
        key = ("rollout %s" % self.rid).encode()
        for line in lines.splitlines():
            if key not in line:
                continue
            tail = line[line.index(key) + len(key):]
            if tail.startswith(b" completed"):
                self.completed = self.completed or now
            elif tail.startswith(b" paused"):
                self.paused = line.decode("utf-8", "replace")
            elif tail.startswith(b" starts ("):  # batch 1, as the rollout starts
                self.batch_seen.setdefault(1, now)
            elif tail.startswith(b": batch ") and b" starts" in tail:
                self.batch_seen.setdefault(int(tail.split()[2]), now)

    def close(self):
        self.f.close()


def get_rollout(emu, rid):
    r = emu.get("/api/v1/rollouts/%s" % rid, timeout=TIMEOUT)
    assert r.status == 200, r
    return r.json


def summary(ro):
    return "status %s (%s), batch %s, counts %s" % (ro["status"], ro.get("pauseReason"), ro["currentBatch"],
                                                    ro["counts"])


# ---- haas-emu ----

def spread(items):
    """The devices in the order start_fleet() deals them out to its
    processes (consecutive runs of PER_PROCESS): every process gets every
    nproc-th device in device-name order, the order in which the rollout
    fills its batches (store_rollout_assign_batches), so that each batch is
    spread over all fleet processes and their worker threads, as a batch
    of real devices is spread over as many CPUs. Contiguous, a batch of 250
    would be one process of 2 threads while the other 6 threads idle."""
    ordered = sorted(items, key=lambda d: (d["productKey"], d["deviceName"]))
    nproc, _ = fleet_layout(len(items))
    out = [ordered[i] for p in range(nproc) for i in range(p, len(ordered), nproc)]
    assert len(out) == len(items)
    return out


def rollout_run(emu, n, work):
    """The haas-emu measurement; returns a result dict."""
    emu.app()
    blob = os.urandom(PACKAGE_BLOB)
    r = emu.upload(APP_ID, package_name("0.0.2"), make_package({"blob.bin": blob}, version="0.0.2"))
    assert r.status == 201, r
    version = r.json
    pk, _gid, items = make_devices(emu, "rollout-%d" % n, n, "r")
    items = spread(items)
    hwm_setup = status_kib(emu.proc.pid, "VmHWM")
    flash = tempfile.mkdtemp(prefix="haas-bench-flash-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    fwork = os.path.join(work, "emu-fleet")
    os.makedirs(fwork)
    procs = []
    log = RolloutLog(emu.log_path)
    try:
        procs, workers = start_fleet(emu, items, fwork, flash)
        wait_for(lambda: check_fleet(procs) or online(emu, pk) == n, timeout=TIMEOUT, interval=0.1,
                 what="%d haas-device fleet devices online" % n)
        wait_for(lambda: check_fleet(procs) or versions_known(emu, pk, n), timeout=TIMEOUT, interval=0.2,
                 what="haas-emu to know the version of all %d devices" % n)
        time.sleep(SETTLE)
        mosq = child_pid(emu.proc.pid, "mosquitto")
        rss0 = status_kib(emu.proc.pid, "VmRSS")
        cpu0 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq) if mosq else 0.0,
                sum(cpu_seconds(p.pid) for p in procs))
        body = json.dumps({"kind": "app", "productKey": pk, "appId": APP_ID, "version": "0.0.2",
                           "targetType": "product", "srcVersions": ["0.0.1"],
                           "batches": [str(n // BATCHES)] * BATCHES, "name": "bench"})
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=TIMEOUT)
        conn.connect()
        log.poll()
        t0 = time.monotonic()
        conn.request("POST", "/api/v1/rollouts", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        answer = resp.read()
        t_http = time.monotonic()
        conn.close()
        assert resp.status == 201, (resp.status, answer)
        ro = json.loads(answer)
        assert ro["counts"]["total"] == n, ro["counts"]
        log.rid = ro["rolloutId"]
        while log.completed is None:
            log.poll()
            if log.paused:
                raise AssertionError("rollout paused itself after %.1f s: %s; %s"
                                     % (time.monotonic() - t0, log.paused, summary(get_rollout(emu, log.rid))))
            if time.monotonic() - t0 > ROLLOUT_DEADLINE:
                raise AssertionError("rollout not completed within %d s: %s"
                                     % (ROLLOUT_DEADLINE, summary(get_rollout(emu, log.rid))))
            check_fleet(procs)
            if emu.proc.poll() is not None:
                raise AssertionError("haas-emu exited with %s during the rollout" % emu.proc.returncode)
            time.sleep(LOG_INTERVAL)
        seconds = log.completed - t0
        cpu1 = (cpu_seconds(emu.proc.pid), cpu_seconds(mosq) if mosq else 0.0,
                sum(cpu_seconds(p.pid) for p in procs))
        hwm = status_kib(emu.proc.pid, "VmHWM")
        mosq_hwm = status_kib(mosq, "VmHWM") if mosq else 0
        # the record agrees (the log line is written as the step decides; its save may follow)
        wait_for(lambda: get_rollout(emu, log.rid)["status"] == "completed", timeout=10,
                 what="rollout %s to read completed" % log.rid)
        done = get_rollout(emu, log.rid)
        assert done["counts"]["succeeded"] == n and done["counts"]["total"] == n, summary(done)
        sizes = [(b["batch"], b["status"], b["size"], b["succeeded"]) for b in done["batchList"]]
        assert sizes == [(i + 1, "done", n // BATCHES, n // BATCHES) for i in range(BATCHES)], sizes
        for d in items[::max(1, n // 50)]:
            with open(os.path.join(flash, "roots", d["deviceName"], "data", "pyamp", "manifest.json")) as f:
                assert json.load(f)["version"] == "0.0.2", d["deviceName"]
        waves = [[(d["productKey"], d["deviceName"]) for d in done["devices"] if d["batch"] == b]
                 for b in range(1, BATCHES + 1)]
        assert [len(w) for w in waves] == [n // BATCHES] * BATCHES, [len(w) for w in waves]
        return {"waves": waves, "seconds": seconds, "http": t_http - t0,
                "batches": [log.batch_seen.get(b, float("nan")) - t0 for b in range(1, BATCHES + 1)],
                "cpu": cpu1[0] - cpu0[0], "mosq_cpu": cpu1[1] - cpu0[1], "fleet_cpu": cpu1[2] - cpu0[2],
                "hwm_setup": hwm_setup, "rss0": rss0, "hwm": hwm, "mosq_hwm": mosq_hwm,
                "items": items, "version": version, "procs": len(procs), "workers": workers}
    finally:
        log.close()
        stop_procs(procs)
        shutil.rmtree(flash, ignore_errors=True)


# ---- the floor ----

def start_mosquitto(work):
    """A plain mosquitto on 127.0.0.1 with the managed broker's settings
    (server/src/broker.c) and no auth plugin; returns (process, port)."""
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("per_listener_settings false\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n"
                "max_inflight_messages 0\nmax_queued_messages 1000000\nlog_dest stderr\nlog_type error\n"
                "log_type warning\nmessage_size_limit 262144\nlistener %d 127.0.0.1\nmax_qos 1\n" % port)
    log = open(os.path.join(work, "mosquitto.log"), "wb")
    try:
        proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()

    def listening():
        if proc.poll() is not None:
            raise AssertionError("mosquitto exited with %s" % proc.returncode)
        try:
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_for(listening, timeout=10, what="mosquitto on port %d" % port)
    return proc, port


def push_payload(i, version, url):
    """The push haas-emu sends (server/src/push.c, docs/protocol.md), with
    the package URL at nginx."""
    return json.dumps({"id": str(100000 + i), "version": "1.0", "method": "thing.service.hli_service_upgrade_push",
                       "params": {"app": [{"size": version["size"], "appId": APP_ID, "rollingBack": 0,
                                           "version": "0.0.2", "url": url, "md5": version["md5"],
                                           "needRestart": 0}],
                                  "appUpdateCount": 1, "errorCode": "200", "needUpdateFirmware": 0,
                                  "haasTraceId": "7f000001%013d%04d1%04d" % (int(time.time() * 1000), i % 10000,
                                                                           os.getpid() % 10000)}},
                      separators=(",", ":"))


class Engine:
    """The floor's stand-in for the rollout engine: one MQTT connection that
    publishes pushes and counts the devices' queries and app.result 200."""

    def __init__(self, port):
        self.cond = threading.Condition()
        self.queried = set()
        self.succeeded = set()
        self.failed = {}
        self.client = mqtt.Client(client_id="bench-rollout-floor", clean_session=True)
        self.client.max_inflight_messages_set(0)  # no limit, as haas-emu's link
        self.client.on_message = self.on_message
        self.client.on_connect = self.on_connect
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=300)
        self.client.loop_start()
        assert self.subscribed.wait(TIMEOUT), "floor engine: no SUBACK"

    def on_connect(self, client, userdata, flags, rc):
        assert rc == 0, rc
        client.subscribe([("/sys/+/+/thing/event/hli_event/post", 1),
                          ("/sys/+/+/thing/event/hli_event_upgrade_query/post", 1)])

    def on_message(self, client, userdata, msg):
        parts = msg.topic.split("/")
        dn = parts[3]
        if parts[6] == "hli_event_upgrade_query":
            with self.cond:
                self.queried.add(dn)
                self.cond.notify_all()
            return
        params = json.loads(msg.payload)["params"]
        if params.get("eventName") != "app.result":
            return
        with self.cond:
            if params["argInt"] == 200 and json.loads(params["ext"])["appNewVersion"] == "0.0.2":
                self.succeeded.add(dn)
            else:
                self.failed[dn] = params
            self.cond.notify_all()

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("floor: %s not within %d s (%d queried, %d succeeded, %d failed)"
                                         % (what, timeout, len(self.queried), len(self.succeeded), len(self.failed)))
                self.cond.wait(min(left, 0.5))

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def nginx_pids(master):
    """nginx's master and its workers."""
    out = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def floor_run(emu, n, items, waves, version, work):
    """The floor: same fleet, same upgrade, 4 waves, no haas-emu."""
    fwork = os.path.join(work, "floor")
    os.makedirs(fwork)
    servers, procs, engine = [], [], None
    flash = tempfile.mkdtemp(prefix="haas-bench-flash-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        nginx, url = start_nginx(emu, version["url"], version["size"], fwork, "rollout")
        servers.append(nginx)
        mosq, port = start_mosquitto(fwork)
        servers.append(mosq)
        engine = Engine(port)
        procs, _ = start_fleet(types.SimpleNamespace(mqtt_port=port), items, fwork, flash)
        engine.wait(lambda: check_fleet(procs) or len(engine.queried) == n, TIMEOUT,
                    "%d devices online and querying" % n)
        size = n // BATCHES
        payloads = [[("/sys/%s/%s/thing/service/hli_service_upgrade_push" % (pk, dn), push_payload(i, version, url))
                     for i, (pk, dn) in enumerate(wave)] for wave in waves]
        time.sleep(SETTLE)
        workers = nginx_pids(nginx.pid)
        me = os.getpid()
        watched = [mosq.pid] + workers + [me]
        cpu0 = [cpu_seconds(p) for p in watched]
        fleet0 = sum(cpu_seconds(p.pid) for p in procs)
        t0 = time.monotonic()
        marks = []
        for w, wave in enumerate(payloads):
            marks.append(time.monotonic() - t0)
            for topic, payload in wave:
                engine.client.publish(topic, payload, qos=1)
            names = [dn for _, dn in waves[w]]
            engine.wait(lambda: engine.failed or all(dn in engine.succeeded for dn in names), WAVE_DEADLINE,
                        "wave %d: %d results" % (w + 1, size))
            assert not engine.failed, ("floor: failed devices", list(engine.failed.items())[:5])
        seconds = time.monotonic() - t0
        cpu1 = [cpu_seconds(p) for p in watched]
        fleet1 = sum(cpu_seconds(p.pid) for p in procs)
        cpu = [b - a for a, b in zip(cpu0, cpu1)]
        hwm = {"mosquitto": status_kib(mosq.pid, "VmHWM"),
               "nginx": sum(status_kib(p, "VmHWM") for p in workers), "driver": status_kib(me, "VmHWM")}
        assert len(engine.succeeded) == n, len(engine.succeeded)
        return {"seconds": seconds, "waves": marks, "cpu_mosq": cpu[0], "cpu_nginx": sum(cpu[1:-1]),
                "cpu_driver": cpu[-1], "fleet_cpu": fleet1 - fleet0, "hwm": hwm, "nginx_procs": len(workers)}
    finally:
        stop_procs(procs)
        if engine:
            engine.close()
        stop_procs(servers)
        shutil.rmtree(flash, ignore_errors=True)


# ---- report ----

def med(values):
    return statistics.median(values)


def span(values, fmt):
    return (fmt + "-" + fmt) % (min(values), max(values))


def round_numbers(e, f):
    """One round's comparable numbers: time, server-side CPU, server-side peak."""
    return {"emu_s": e["seconds"], "floor_s": f["seconds"],
            "emu_cpu": e["cpu"] + e["mosq_cpu"], "floor_cpu": f["cpu_mosq"] + f["cpu_nginx"] + f["cpu_driver"],
            "emu_mib": (e["hwm"] + e["mosq_hwm"]) / 1024,
            "floor_mib": (f["hwm"]["mosquitto"] + f["hwm"]["nginx"]) / 1024}


def report(n, rounds):
    size = n // BATCHES
    nums = [round_numbers(e, f) for e, f in rounds]
    col = lambda key: [x[key] for x in nums]  # noqa: E731
    print("staged rollout: an app release (package with a %d KiB file) to %d haas-device --fleet devices in %d "
          "batches of %d, from the rollout's creation until it is completed; floor = the same fleet doing the same "
          "upgrade in %d waves of %d pushed straight through a plain mosquitto (each wave's results awaited before "
          "the next), downloads from nginx; median of %d rounds (range):"
          % (PACKAGE_BLOB >> 10, n, BATCHES, size, BATCHES, size, len(rounds)))
    print("  %-34s  %-24s  %-24s  %s" % ("", "haas-emu", "floor", "ratio"))
    rows = (("time, creation to completed", "emu_s", "floor_s", "%.2f", "s"),
            ("CPU utime+stime, server side", "emu_cpu", "floor_cpu", "%.2f", "s"),
            ("peak RSS (VmHWM), server side", "emu_mib", "floor_mib", "%.1f", "MiB"))
    for label, a, b, fmt, unit in rows:
        cells = []
        for key in (a, b):
            cells.append((fmt + " %s (%s)") % (med(col(key)), unit, span(col(key), fmt)))
        ratios = [x[a] / x[b] for x in nums]
        print("  %-34s  %-24s  %-24s  %.2fx (%s)" % (label, cells[0], cells[1], med(ratios), span(ratios, "%.2f")))
    print("  server side: haas-emu = haas-emu + its managed mosquitto; floor = mosquitto + nginx (master and "
          "workers) + this script as the engine (CPU only: a Python interpreter's memory is not in the floor's peak)")
    for i, (e, f) in enumerate(rounds):
        print("  round %d: haas-emu %.2f s CPU, %.1f MiB peak (%.1f after setup) + its mosquitto %.2f s, %.1f MiB; "
              "floor mosquitto %.2f s, %.1f MiB + nginx %.2f s, %.1f MiB + script %.2f s (%.1f MiB); fleet CPU %.2f s "
              "with haas-emu, %.2f s in the floor"
              % (i + 1, e["cpu"], e["hwm"] / 1024, e["hwm_setup"] / 1024, e["mosq_cpu"], e["mosq_hwm"] / 1024,
                 f["cpu_mosq"], f["hwm"]["mosquitto"] / 1024, f["cpu_nginx"], f["hwm"]["nginx"] / 1024,
                 f["cpu_driver"], f["hwm"]["driver"] / 1024, e["fleet_cpu"], f["fleet_cpu"]))
        print("           batch starts after (s): haas-emu %s, completed %.3f; floor waves %s, done %.3f; "
              "POST answered in %.0f ms"
              % (" ".join("%.3f" % t for t in e["batches"]), e["seconds"], " ".join("%.3f" % t for t in f["waves"]),
                 f["seconds"], e["http"] * 1000))
    e = rounds[0][0]
    print("  fleet: %d processes x %d threads (nice %d), each batch spread over all of them; the machine has %d cores"
          % (e["procs"], e["workers"] // e["procs"], FLEET_NICE, os.cpu_count()))


def one_round(n, r, work):
    """A fresh haas-emu and its rollout, then (haas-emu stopped) the floor."""
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    rwork = os.path.join(work, "round-%d" % r)
    os.makedirs(rwork)
    emu = Emulator("bench-rollout-%d-%d" % (n, r), data_dir=os.path.join(rwork, "data"),
                   env={"HAAS_URL_TTL": "86400"})
    failed = True
    try:
        emu.start()
        e = rollout_run(emu, n, rwork)
        emu.stop()
        f = floor_run(emu, n, e["items"], e["waves"], e["version"], rwork)
        failed = False
        return e, f
    finally:
        emu.stop(check=not failed)
        if failed:
            print("bench_rollout failed in round %d; haas-emu log %s" % (r, emu.log_path), file=sys.stderr)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    assert n % BATCHES == 0, "N must divide into %d batches" % BATCHES
    if not os.access(DEVICE, os.X_OK):
        raise SystemExit("bench needs %s (make)" % DEVICE)
    for tool in ("nginx", "curl", "mosquitto"):
        if not shutil.which(tool):
            raise SystemExit("bench needs %s (make test-deps installs it)" % tool)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the plain mosquitto holds N + 1 connections
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * n + 1024)), hard))
    work = tempfile.mkdtemp(prefix="haas-bench-rollout-")
    failed = True
    try:
        results = [one_round(n, r + 1, work) for r in range(rounds)]
        report(n, results)
        failed = False
    finally:
        if failed:
            print("bench_rollout failed; logs kept in %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
