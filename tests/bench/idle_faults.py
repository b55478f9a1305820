"""Fault rules that are there but never fire, for the push and download
benches (docs/protocol.md section 14): with no enabled rule each fault hook
is one atomic load; with rules enabled every hook walks them. The benches
measure haas-emu both ways in the same run, alternating rounds, with
IdleRules.on() / off() between them.

The RULES rules are of the kinds the measured hook looks at (push rules for
the push bench, download rules for the download bench), each enabled with
the trigger "always", and scoped half to another product, half to another
task (a real one, on another package, in another group): every rule's scope
is checked on every push or download and none matches. IdleRules.check()
proves that none fired.

Under other load the wall-clock figures swing widely, so the benches also
count haas-emu's own CPU time (cpu_ms) per push round or per download,
which the hooks' cost shows in directly.
"""
import itertools
import os
import statistics

RULES = 8

PUSH = ({"action": "dropPush"}, {"action": "delayPush", "ms": 1000}, {"action": "duplicatePush"},
        {"action": "wrongMd5"}, {"action": "wrongSize"}, {"action": "disconnect", "when": "push"})
DOWNLOAD = ({"action": "httpStatus", "status": 503}, {"action": "delay", "ms": 1000},
            {"action": "bandwidth", "bytesPerSecond": 1024}, {"action": "truncate", "at": 0},
            {"action": "corrupt", "at": 0, "count": 8}, {"action": "stall", "at": 0, "ms": 1000},
            {"action": "wrongLength", "bytes": 100}, {"action": "refuseRange"})


class IdleRules:
    """RULES rules of the given kinds (PUSH or DOWNLOAD), made disabled.

    app_id/version: a package on emu that is not the measured one; the
    decoy task is for it, so that a rule scoped to that task never matches
    the measured package or task either.
    """

    def __init__(self, emu, kinds, app_id, version):
        self.emu = emu
        pk = emu.product("decoy")
        r = emu.post("/api/v1/products/%s/devices" % pk, {"count": 1, "prefix": "decoy-"})
        assert r.status == 201, r
        dn = r.json["items"][0]["deviceName"]
        gid = emu.post("/api/v1/groups", {"name": "decoy"}).json["groupId"]
        r = emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": dn}]})
        assert r.status == 200, r
        r = emu.post("/api/v1/tasks", {"appId": app_id, "version": version, "groupId": gid})
        assert r.status == 201, r
        scopes = ({"productKey": pk}, {"taskId": r.json["taskId"]})
        self.ids = []
        for kind, scope in zip(itertools.cycle(kinds), itertools.cycle(scopes)):
            if len(self.ids) == RULES:
                break
            r = emu.post("/api/v1/faults", dict(kind, scope=scope, trigger="always", enabled=False))
            assert r.status == 201, r
            self.ids.append(r.json["faultId"])
        self.enabled = False

    def _set(self, on):
        for fid in self.ids:
            r = self.emu.post("/api/v1/faults/%s/%s" % (fid, "enable" if on else "disable"))
            assert r.status == 200 and r.json["enabled"] is on, r
        self.enabled = on

    def on(self):
        self._set(True)

    def off(self):
        self._set(False)

    def check(self):
        """Asserts that the rules are all there and none ever fired."""
        items = {f["faultId"]: f for f in self.emu.get("/api/v1/faults").json["items"]}
        for fid in self.ids:
            assert items[fid]["fired"] == 0, items[fid]
        assert sum(1 for f in items.values() if f["enabled"]) == (len(self.ids) if self.enabled else 0), items


def round_ratios(none, idle):
    """The runs measured in pairs (each round's run without and with the
    rules) as "round by round Y/X: median, min-max": the pairing cancels
    much of what other load on the machine does to both."""
    ratios = [y / x for x, y in zip(none, idle)]
    return "round by round Y/X: median %.2fx, %.2f-%.2fx" % (statistics.median(ratios), min(ratios), max(ratios))


def cpu_ms(pid):
    """utime + stime of process pid so far, all its threads, in ms (counted
    in clock ticks, usually 10 ms)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
