#!/usr/bin/env python3
"""Upgrade push to a group of connected devices: haas-emu against the floor of
the same number of messages published straight through the same mosquitto,
in one run. Prints both and the ratio, and the broker plugin's CONNECT rate;
and haas-emu again with fault rules present that never fire (idle_faults.py).

For each N (1,000 and 10,000) a fresh fleet of N devices (one product, one
group, one task of a fresh haas-emu, release build) is held connected by
build/bench/mqtt_fleet (see the top of tests/bench/mqtt_fleet.c), each device
subscribed to its push topic. Then, ROUNDS times each, alternating:
  haas-emu: the clock starts just before POST /api/v1/tasks/{id}/push is sent
            and stops when the last device has its push;
  floor:    mqtt_fleet in floor mode, logged in with haas-emu's service
            account (read from <data-dir>/broker/mosquitto.conf), publishes
            one message of the same size (QoS 1) to each of the N push topics
            through one connection; the clock starts just before the first
            publish and stops when the last device has its message.
  haas-emu with rules: the haas-emu round again, with 8 push fault rules
            enabled, scoped to another product or task (none fires; every
            push walks them); the two haas-emu rounds swap order each time.
Every round checks that every device got exactly one message. Reported: best
and median of each, the ratio of the medians (goal: at most 1.3x the floor),
haas-emu without and with the rules side by side (medians, their ratio and
each one's to the floor), and how fast the plugin accepted the 10,000 logins.

Usage: bench_push.py [N ...]   (default: 1000 10000)
"""
import json
import os
import re
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import APP_ID, ROOT, Emulator, make_package, package_name, wait_for  # noqa: E402
import idle_faults  # noqa: E402

FLEET = os.path.join(ROOT, "build", "bench", "mqtt_fleet")
SIZES = (1000, 10000)
ROUNDS = 5
GOAL = 1.3
TIMEOUT = 60          # seconds: any single step (connecting, one round)
WINDOW = 100         # logins in flight at once


class Tool:
    """One mqtt_fleet process: commands on stdin, "WORD k=v ..." lines on stdout."""

    def __init__(self, args, log_path):
        self.log = open(log_path, "wb")
        self.log_path = log_path
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buf = b""

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def _line(self, deadline):
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.sel.select(remaining):
                raise AssertionError("mqtt_fleet: no answer in time (%s)" % " ".join(self.proc.args[:2]))
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("mqtt_fleet exited (%s) with %s; stderr in %s"
                                     % (" ".join(self.proc.args[:2]), self.proc.wait(), self.log_path))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def expect(self, word, timeout=TIMEOUT):
        """Waits for the line starting with word; returns its k=v fields."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._line(deadline)
            head = line.split(" ", 1)[0]
            if head in ("ERROR", "TIMEOUT"):
                raise AssertionError("mqtt_fleet: " + line)
            if head == word:
                return dict(kv.split("=", 1) for kv in line.split()[1:])

    def quit(self):
        """QUIT; returns the BYE fields and the exit status."""
        self.send("QUIT")
        bye = self.expect("BYE")
        return bye, self.proc.wait(timeout=TIMEOUT)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sel.close()
        self.proc.stdout.close()
        self.proc.stdin.close()
        self.log.close()


def service_account(emu):
    conf = open(os.path.join(emu.data_dir, "broker", "mosquitto.conf")).read()
    user = re.search(r"^plugin_opt_service_username (.+)$", conf, re.M).group(1)
    password = re.search(r"^plugin_opt_service_password (.+)$", conf, re.M).group(1)
    return user, password


def make_fleet(emu, n, work):
    """A product with n devices in a group, a task for them; returns (pk, task id, triples file)."""
    pk = emu.product("bench-%d" % n)
    r = emu.post("/api/v1/products/%s/devices" % pk, {"count": n, "prefix": "dev-"}, timeout=120)
    assert r.status == 201, r
    items = r.json["items"]
    assert len(items) == n, len(items)
    gid = emu.post("/api/v1/groups", {"name": "bench-%d" % n}).json["groupId"]
    for i in range(0, n, 2500):
        r = emu.post("/api/v1/groups/%s/devices" % gid,
                     {"devices": [{"productKey": d["productKey"], "deviceName": d["deviceName"]}
                                  for d in items[i:i + 2500]]}, timeout=120)
        assert r.status == 200, r
    r = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid})
    assert r.status == 201, r
    path = os.path.join(work, "devices-%d.txt" % n)
    with open(path, "w") as f:
        for d in items:
            f.write("%s %s %s\n" % (d["productKey"], d["deviceName"], d["deviceSecret"]))
    return pk, r.json["taskId"], path


def online(emu, pk):
    return emu.get("/api/v1/products/%s/devices?status=online&limit=1" % pk).json["total"]


def emu_round(emu, fleet, task_id, n):
    """One push through haas-emu; returns (ms until the last device had it, ms until HTTP answered, DONE fields,
    haas-emu's CPU ms from the request until the last device had it)."""
    fleet.send("ROUND")
    fleet.expect("ARMED")
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=TIMEOUT)
    conn.connect()
    cpu0 = idle_faults.cpu_ms(emu.proc.pid)
    t0 = time.monotonic() * 1000
    conn.request("POST", "/api/v1/tasks/%s/push" % task_id)
    resp = conn.getresponse()
    body = resp.read()
    t_http = time.monotonic() * 1000
    conn.close()
    assert resp.status == 200, (resp.status, body)
    pushed = json.loads(body)
    assert pushed["pushed"] == n and not pushed.get("notSent"), pushed
    done = fleet.expect("DONE")
    cpu = idle_faults.cpu_ms(emu.proc.pid) - cpu0
    check_round(done, n)
    return float(done["last_ms"]) - t0, t_http - t0, done, cpu


def floor_round(floor, fleet, n):
    """One floor round; returns (ms until the last device had its message, SENT fields, DONE fields)."""
    fleet.send("ROUND")
    fleet.expect("ARMED")
    floor.send("GO")
    sent = floor.expect("SENT")
    done = fleet.expect("DONE")
    check_round(done, n)
    return float(done["last_ms"]) - float(sent["t0_ms"]), sent, done


def check_round(done, n):
    assert int(done["count"]) == n and done["extra"] == "0" and done["dup"] == "0" and done["bad"] == "0", done


def bench(emu, n, work, rules):
    """Connects a fleet of n devices and measures ROUNDS pushes of each kind
    (haas-emu without and with the idle fault rules, the floor)."""
    pk, task_id, triples = make_fleet(emu, n, work)
    fleet = Tool([FLEET, "devices", "--port", str(emu.mqtt_port), "--file", triples, "--window", str(WINDOW),
                  "--timeout", str(TIMEOUT)], os.path.join(work, "fleet-%d.log" % n))
    floor = None
    try:
        connected = fleet.expect("CONNECTED")
        subscribed = fleet.expect("SUBSCRIBED")
        fleet.expect("READY")
        wait_for(lambda: online(emu, pk) == n, timeout=TIMEOUT, interval=0.05,
                 what="haas-emu to see %d devices online" % n)
        result = {"n": n, "emu": [], "http": [], "floor": [], "first_emu": [], "first_floor": [], "rules": [],
                  "cpu": [], "cpu_rules": [],
                  "connect_rate": float(connected["rate"]), "connect_ms": float(connected["ms"]),
                  "subscribed_ms": float(subscribed["ms"])}
        for i in range(ROUNDS):
            for with_rules in ((False, True) if i % 2 == 0 else (True, False)):
                if with_rules:
                    rules.on()
                ms, http_ms, done, cpu = emu_round(emu, fleet, task_id, n)
                result["cpu_rules" if with_rules else "cpu"].append(cpu)
                if with_rules:
                    rules.off()
                    result["rules"].append(ms)
                    continue
                result["emu"].append(ms)
                result["http"].append(http_ms)
                result["first_emu"].append(float(done["first_ms"]) - (float(done["last_ms"]) - ms))
            if floor is None:  # the floor sends what a real push weighs
                result["size"] = int(done["bytes"])
                user, password = service_account(emu)
                floor = Tool([FLEET, "floor", "--port", str(emu.mqtt_port), "--file", triples,
                              "--username", user, "--password", password, "--size", str(result["size"]),
                              "--timeout", str(TIMEOUT)], os.path.join(work, "floor-%d.log" % n))
                floor.expect("READY")
            ms, sent, done = floor_round(floor, fleet, n)
            result["floor"].append(ms)
            result["first_floor"].append(float(done["first_ms"]) - float(sent["t0_ms"]))
        bye, rc = fleet.quit()
        assert rc == 0 and int(bye["rounds"]) == 3 * ROUNDS, ("fleet", bye, rc)
        rules.check()
        bye, rc = floor.quit()
        assert rc == 0, ("floor", bye, rc)
        return result
    finally:
        if floor:
            floor.close()
        fleet.close()


def main():
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    if not os.access(FLEET, os.X_OK):
        raise SystemExit("bench needs %s (make build/bench/mqtt_fleet)" % FLEET)
    work = tempfile.mkdtemp(prefix="haas-bench-push-")
    import harness
    harness.EMU = os.path.join(ROOT, "build", "haas-emu")
    emu = Emulator("bench-push", data_dir=os.path.join(work, "data"))
    failed = True
    try:
        emu.start()
        emu.app()
        r = emu.upload(APP_ID, package_name("0.0.2"), make_package({}, version="0.0.2"))
        assert r.status == 201, r
        r = emu.upload(APP_ID, package_name("0.0.3"), make_package({}, version="0.0.3"))
        assert r.status == 201, r
        rules = idle_faults.IdleRules(emu, idle_faults.PUSH, APP_ID, "0.0.3")
        results = [bench(emu, n, work, rules) for n in sizes]
        med = statistics.median
        print("upgrade push until every device has it, haas-emu vs the same messages published straight "
              "through mosquitto (QoS 1, %d rounds each, alternating):" % ROUNDS)
        print("  %6s %5s  %10s %10s  %10s %10s  %6s" % ("N", "bytes", "emu best", "emu med", "floor best",
                                                      "floor med", "ratio"))
        for r in results:
            ratio = med(r["emu"]) / med(r["floor"])
            print("  %6d %5d  %7.1f ms %7.1f ms  %7.1f ms %7.1f ms  %5.2fx (goal <= %.1fx) %s"
                  % (r["n"], r["size"], min(r["emu"]), med(r["emu"]), min(r["floor"]), med(r["floor"]), ratio,
                     GOAL, "OK" if ratio <= GOAL else "ABOVE GOAL"))
        for r in results:
            print("  N=%d: POST .../push answered after %.1f ms (median); first push arrived after %.1f ms, "
                  "first floor message after %.1f ms"
                  % (r["n"], med(r["http"]), med(r["first_emu"]), med(r["first_floor"])))
        print("  haas-emu with %d push fault rules enabled, scoped to another product or task, none firing "
              "(same rounds, alternating; medians):" % len(rules.ids))
        for r in results:
            none, idle, floor = med(r["emu"]), med(r["rules"]), med(r["floor"])
            print("  N=%d: fault rules: none %.1f ms, %d enabled not firing %.1f ms (Y/X = %.2fx); "
                  "to the floor %.2fx and %.2fx; %s (rounds: none %.1f-%.1f ms, with rules %.1f-%.1f ms)"
                  % (r["n"], none, len(rules.ids), idle, idle / none, none / floor, idle / floor,
                     idle_faults.round_ratios(r["emu"], r["rules"]),
                     min(r["emu"]), max(r["emu"]), min(r["rules"]), max(r["rules"])))
            base = sum(r["cpu"])  # 0 when the rounds took less than one clock tick in all
            print("  N=%d: haas-emu CPU per push round: none %.0f ms, with the rules %.0f ms (Y/X = %s; "
                  "totals of %d rounds, in %d ms ticks)"
                  % (r["n"], base / ROUNDS, sum(r["cpu_rules"]) / ROUNDS,
                     "%.2fx" % (sum(r["cpu_rules"]) / base) if base > 0 else "n/a, none under one tick",
                     ROUNDS, 1000 // os.sysconf("SC_CLK_TCK")))
        for r in results:
            if r["n"] == max(sizes):
                print("  CONNECT rate, %d devices (plugin auth, %d logins in flight): %.0f devices/s "
                      "(all CONNACKs after %.2f s, all SUBACKs after %.2f s)"
                      % (r["n"], WINDOW, r["connect_rate"], r["connect_ms"] / 1000, r["subscribed_ms"] / 1000))
        failed = False
    finally:
        try:
            emu.stop(check=not failed)
        finally:
            if failed:
                print("bench_push failed; logs kept in %s and %s" % (work, emu.log_path), file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
