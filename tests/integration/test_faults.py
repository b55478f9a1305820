"""Fault injection (docs/protocol.md section 14) against a simulated Core2
(haas-device): each fault kind, and the outcome a device developer expects
of it.

- a download cut short resumes (Range) and succeeds; a download that
  stalls mid-body goes on and succeeds; a corrupt package ends as 404 with the old
  app intact; a wrong MD5 in the push is refused (404, old app intact) and
  the next push succeeds;
- a dropped push ends as timed out (virtual clock, no waiting), and pushing
  again succeeds; a disconnect mid-download recovers; refused logins are
  retried, backing off, until the device is let in;
- the rules: listed, counted, disabled, deleted; bad rules refused;
- downloads waiting out a delay, a stall or the bandwidth cap hold up
  neither the API nor each other.
"""
import hashlib
import http.client
import os
import re
import threading
import time
from urllib.parse import urlparse

from harness import APP_ID, wait_for
from test_device_e2e import NEW_MAIN, DeviceTest
from sim_device import read_app, tutorial_package


def noise(n):
    """n bytes gzip cannot shrink: the package stays about n bytes."""
    out, block = bytearray(), b"noise"
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


class FaultBench(DeviceTest):
    """What the fault tests share (no tests of its own)."""
    emulator_args = ("--clock", "virtual")

    def fault(self, rule):
        r = self.emu.post("/api/v1/faults", rule)
        self.assertEqual(r.status, 201, r)
        self.addCleanup(self.emu.delete, "/api/v1/faults/%s" % r.json["faultId"])
        return r.json["faultId"]

    def fired(self, fid):
        return self.emu.get("/api/v1/faults/%s" % fid).json["fired"]

    def ready(self, dn, version="0.0.9"):
        """A device online on 0.0.1, a package of version, and its task."""
        d = self.new_device(dn)
        self.start_online(d, ["--no-python"])
        self.wait_reported(dn, "0.0.1")
        self.upload(version, {"main.py": NEW_MAIN, "big.bin": noise(200000)})
        return d, self.task_for(dn, version)



class FaultTest(FaultBench):

    def test_a_download_cut_short_resumes_and_succeeds(self):
        d, tid = self.ready("cut-01", "0.0.2")
        fid = self.fault({"action": "truncate", "at": 20000, "scope": {"taskId": tid}, "trigger": {"times": 1}})
        self.push(tid)
        self.wait_task_state(tid, "cut-01", "succeeded", 200)
        self.assertEqual(self.fired(fid), 1)
        self.assertEqual(self.manifest_version(d), "0.0.2")
        self.assertRegex(d.read_log(), r"resum")
        # the task's timeline tells it all, in order
        events = self.emu.get("/api/v1/tasks/%s/timeline" % tid).json["items"]
        kinds = [(e["kind"], e["detail"].get("state") or e["detail"].get("kind") or e["detail"].get("status"))
                 for e in events]
        self.assertEqual(kinds[:2], [("mqtt", "push"), ("state", "pushed")])
        downloads = [e["detail"] for e in events if e["kind"] == "download"]
        self.assertGreaterEqual(len(downloads), 2, events)
        self.assertFalse(downloads[0]["completed"])          # cut at 20000 bytes
        self.assertTrue(downloads[-1]["completed"])
        self.assertEqual(downloads[-1]["status"], 206)       # resumed with a Range
        self.assertTrue(downloads[-1]["range"].startswith("bytes "))
        self.assertIn("fault", [e["kind"] for e in events])
        self.assertEqual(sorted(kinds[-2:]), [("mqtt", "result"), ("state", "succeeded")])
        self.assertEqual([e["seq"] for e in events], sorted(e["seq"] for e in events))
        device = self.emu.get("/api/v1/products/%s/devices/cut-01/timeline" % self.pk).json["items"]
        self.assertGreaterEqual(len(device), len(events))  # its own messages without a task, too
        self.assertEqual(self.emu.get("/api/v1/tasks/nope/timeline").code, "TaskNotFound")

    def test_a_stalled_download_goes_on_and_succeeds(self):
        d, tid = self.ready("stall-01", "0.0.3")
        fid = self.fault({"action": "stall", "at": 30000, "ms": 4000, "scope": {"taskId": tid},
                          "trigger": {"times": 1}})
        started = time.monotonic()
        self.push(tid)
        self.wait_task_state(tid, "stall-01", "succeeded", 200, timeout=60)
        self.assertGreaterEqual(time.monotonic() - started, 4.0)  # the body really stood still
        self.assertEqual(self.fired(fid), 1)
        self.assertEqual(self.manifest_version(d), "0.0.3")

    def test_a_corrupt_package_ends_as_404_with_the_old_app_intact(self):
        d, tid = self.ready("corrupt-01", "0.0.4")
        self.fault({"action": "corrupt", "at": 100, "count": 8, "scope": {"taskId": tid}})
        before = read_app(d.app_dir)
        self.push(tid)
        self.wait_task_state(tid, "corrupt-01", "failed", 404)
        self.assertEqual(read_app(d.app_dir), before)

    def test_a_wrong_md5_is_refused_and_the_next_push_succeeds(self):
        d, tid = self.ready("md5-01", "0.0.5")
        fid = self.fault({"action": "wrongMd5", "scope": {"productKey": self.pk, "deviceName": "md5-01"},
                          "trigger": {"times": 1}})
        before = read_app(d.app_dir)
        self.push(tid)
        self.wait_task_state(tid, "md5-01", "failed", 404)
        self.assertEqual(read_app(d.app_dir), before)
        self.push(tid)  # the rule fired its one time
        self.wait_task_state(tid, "md5-01", "succeeded", 200)
        self.assertEqual(self.fired(fid), 1)

    def test_a_dropped_push_times_out_and_a_push_again_succeeds(self):
        d, tid0 = self.ready("drop-01", "0.0.6")
        tid = self.emu.post("/api/v1/tasks", {"appId": self.emu.get("/api/v1/tasks/%s" % tid0).json["appId"],
                                              "version": "0.0.6", "groupId":
                                              self.emu.get("/api/v1/tasks/%s" % tid0).json["groupId"],
                                              "timeoutSeconds": 30}).json["taskId"]
        self.fault({"action": "dropPush", "scope": {"taskId": tid}, "trigger": {"times": 1}})
        self.assertEqual(self.push(tid)["pushed"], 1)
        self.emu.post("/api/v1/clock", {"advanceSeconds": 31})  # no real waiting
        self.wait_task_state(tid, "drop-01", "timedOut", None)
        self.push(tid)
        self.wait_task_state(tid, "drop-01", "succeeded", 200)
        self.assertNotIn("upgrade to [0.0.6]", d.read_log().split("local version[0.0.1] low")[0])

    def test_a_disconnect_mid_download_recovers(self):
        d, tid = self.ready("kick-01", "0.0.7")
        fid = self.fault({"action": "disconnect", "when": "download",
                          "scope": {"productKey": self.pk, "deviceName": "kick-01"}, "trigger": {"times": 1}})
        self.fault({"action": "bandwidth", "bytesPerSecond": 200000, "scope": {"taskId": tid}})
        self.push(tid)
        self.wait_task_state(tid, "kick-01", "succeeded", 200)
        self.assertEqual(self.fired(fid), 1)
        log = self.emu.read_log()
        self.assertIn("disconnected the device mid-download", log)
        self.assertEqual(self.manifest_version(d), "0.0.7")

    def test_a_disconnect_after_its_subscriptions_recovers(self):
        d = self.new_device("sub-01")
        fid = self.fault({"action": "disconnect", "when": "subscribe",
                          "scope": {"productKey": self.pk, "deviceName": "sub-01"}, "trigger": {"times": 1}})
        self.start_online(d, ["--no-python"])
        wait_for(lambda: self.fired(fid) == 1, what="the disconnect after the subscriptions")
        # it comes back by itself and reports its app
        self.wait_reported("sub-01", "0.0.1")
        wait_for(lambda: d.read_log().count("subscribed topic success") >= 2, what="subscribed again")
        # the broker's lifecycle message reaches haas-emu on its own time
        wait_for(lambda: self.device_json("sub-01")["status"] == "online", what="sub-01 online again")

    def test_refused_logins_are_retried_until_the_device_is_let_in(self):
        d = self.new_device("login-01")
        self.fault({"action": "refuseLogin", "logins": 2,
                    "scope": {"productKey": self.pk, "deviceName": "login-01"}})
        wait_for(lambda: self.device_json("login-01")["enabled"] is False, what="held disabled")
        d.start(["--no-python"])
        wait_for(lambda: self.device_json("login-01")["status"] == "online", timeout=60, what="let in at last")
        self.assertTrue(self.device_json("login-01")["enabled"])
        self.assertGreaterEqual(self.emu.read_log().count("refused MQTT login of login-01"), 2)
        waits = [int(w) for w in re.findall(r"next try in (\d+) ms", d.read_log())]
        self.assertEqual(waits[:2], [2000, 4000])  # it backs off

    def test_rules_are_listed_counted_disabled_and_deleted(self):
        fid = self.fault({"action": "httpStatus", "status": 503, "scope": {"productKey": self.pk},
                          "trigger": {"probability": 0.5}})
        listed = self.emu.get("/api/v1/faults").json
        self.assertIn(fid, [f["faultId"] for f in listed["items"]])
        self.assertEqual(self.emu.post("/api/v1/faults/%s/disable" % fid).json["enabled"], False)
        self.assertEqual(self.emu.post("/api/v1/faults/%s/enable" % fid).json["enabled"], True)
        self.assertEqual(self.emu.delete("/api/v1/faults/%s" % fid).status, 204)
        self.assertEqual(self.emu.get("/api/v1/faults/%s" % fid).code, "FaultNotFound")
        for bad in ({"action": "explode"}, {"action": "httpStatus", "status": 200},
                    {"action": "truncate", "at": -1}, {"action": "delay", "trigger": {"times": 0}},
                    {"action": "refuseLogin"}, {"action": "disconnect", "when": "never"},
                    {"action": "dropPush", "scope": {"deviceName": "x"}}, {"action": ["truncate"]}):
            self.assertEqual(self.emu.post("/api/v1/faults", bad).code, "InvalidFault", bad)

    def test_an_error_status_on_download_ends_as_404(self):
        d, tid = self.ready("status-01", "0.0.8")
        self.fault({"action": "httpStatus", "status": 503, "scope": {"taskId": tid}})
        self.push(tid)
        self.wait_task_state(tid, "status-01", "failed", 404)
        self.assertEqual(self.manifest_version(d), "0.0.1")
        self.assertTrue(re.search(r"fault f\d+ \(httpStatus\) fired", self.emu.read_log()))


class MoreFaultKindsTest(FaultBench):
    """The other kinds, each with the outcome a device developer expects."""

    def test_a_delayed_first_byte_still_succeeds(self):
        d, tid = self.ready("delay-01", "0.1.0")
        self.fault({"action": "delay", "ms": 1500, "scope": {"taskId": tid}, "trigger": {"times": 1}})
        started = time.monotonic()
        self.push(tid)
        self.wait_task_state(tid, "delay-01", "succeeded", 200)
        self.assertGreaterEqual(time.monotonic() - started, 1.5)

    def test_a_short_body_under_a_longer_content_length_is_resumed(self):
        d, tid = self.ready("length-01", "0.1.1")
        fid = self.fault({"action": "wrongLength", "bytes": 5000, "scope": {"taskId": tid}, "trigger": {"times": 1}})
        self.push(tid)
        self.wait_task_state(tid, "length-01", "succeeded", 200)
        self.assertEqual((self.fired(fid), self.manifest_version(d)), (1, "0.1.1"))

    def test_a_refused_range_after_a_cut_is_refused_by_the_device(self):
        # the SDK asked for bytes=N- and will not take a 200 with the whole
        # file in its place: a clean 404, the old app intact; the next push works
        d, tid = self.ready("range-01", "0.1.2")
        self.fault({"action": "truncate", "at": 50000, "scope": {"taskId": tid}, "trigger": {"times": 1}})
        fid = self.fault({"action": "refuseRange", "scope": {"taskId": tid}})
        before = read_app(d.app_dir)
        self.push(tid)
        self.wait_task_state(tid, "range-01", "failed", 404)
        self.assertEqual(read_app(d.app_dir), before)
        self.assertIn("the server ignored Range", d.read_log())
        self.emu.post("/api/v1/faults/%s/disable" % fid)
        self.push(tid)
        self.wait_task_state(tid, "range-01", "succeeded", 200)

    def test_a_delayed_push_arrives_when_the_clock_gets_there(self):
        d, tid = self.ready("later-01", "0.1.3")
        self.fault({"action": "delayPush", "ms": 60000, "scope": {"taskId": tid}})
        self.push(tid)
        self.assertNotIn("upgrade to [0.1.3]", d.read_log())
        self.emu.post("/api/v1/clock", {"advanceSeconds": 60})
        self.wait_task_state(tid, "later-01", "succeeded", 200)

    def test_a_duplicated_push_upgrades_once(self):
        d, tid = self.ready("twice-01", "0.1.4")
        self.fault({"action": "duplicatePush", "scope": {"taskId": tid}, "trigger": {"times": 1}})
        self.push(tid)
        self.wait_task_state(tid, "twice-01", "succeeded", 200)
        self.assertEqual(d.read_log().count("local version[0.0.1] low,upgrade to [0.1.4]."), 1)

    def test_a_wrong_size_is_refused_with_the_old_app_intact(self):
        d, tid = self.ready("size-01", "0.1.5")
        self.fault({"action": "wrongSize", "scope": {"taskId": tid}, "trigger": {"times": 1}})
        before = read_app(d.app_dir)
        self.push(tid)
        self.wait_task_state(tid, "size-01", "failed", 404)
        self.assertEqual(read_app(d.app_dir), before)

    def test_a_dropped_result_is_settled_by_the_next_version_report(self):
        d, tid = self.ready("lost-01", "0.1.6")
        fid = self.fault({"action": "dropResult", "scope": {"productKey": self.pk, "deviceName": "lost-01"}})
        self.push(tid)
        # the result never counts, but the device reports 0.1.6 after its restart
        self.wait_task_state(tid, "lost-01", "succeeded", 200)
        self.assertGreaterEqual(self.fired(fid), 1)
        self.assertIn("its app.result never arrived", self.emu.read_log())

    def test_a_disconnect_at_connect_or_after_the_push_recovers(self):
        d, tid = self.ready("drop-conn-01", "0.1.7")
        self.fault({"action": "disconnect", "when": "push", "scope": {"taskId": tid}, "trigger": {"times": 1}})
        self.push(tid)
        self.wait_task_state(tid, "drop-conn-01", "succeeded", 200)
        d2 = self.new_device("drop-conn-02")
        fid = self.fault({"action": "disconnect", "when": "connect",
                          "scope": {"productKey": self.pk, "deviceName": "drop-conn-02"}, "trigger": {"times": 1}})
        self.start_online(d2, ["--no-python"])
        self.wait_reported("drop-conn-02", "0.0.1")
        self.assertEqual(self.fired(fid), 1)

    def test_a_broker_restart_is_survived(self):
        d, tid = self.ready("restart-01", "0.1.8")
        starts = self.emu.get("/healthz").json["brokerStarts"]
        self.fault({"action": "restartBroker", "trigger": {"times": 1}})
        wait_for(lambda: self.emu.get("/healthz").json.get("brokerStarts", 0) > starts, timeout=30,
                 what="the broker started again")
        wait_for(lambda: self.emu.get("/healthz").status == 200, timeout=30, what="the link back")
        wait_for(lambda: self.device_json("restart-01")["status"] == "online", timeout=30, what="device back")
        self.push(tid)
        self.wait_task_state(tid, "restart-01", "succeeded", 200)


class WaitingDownloadsTest(FaultBench):
    """Downloads that wait out a fault (a delay, a stall, the bandwidth cap)
    hold up nobody else. libmicrohttpd's 2 to 4 worker threads each serve many
    connections; a fault that slept in one stopped all of them: with a 3 s
    delay and 8 downloads a console page took 14.7 s. Now the connection
    is suspended while it waits (server/src/http_wait.c). Checked by order,
    not by the clock: the API answers while all N downloads still wait, and
    each download still takes at least its fault's wait and arrives whole."""

    N = 8  # more than the server's worker threads (at most 4)

    def check_waiting(self, version, rule, wait_s):
        path, data = tutorial_package(self.work, version, {"main.py": NEW_MAIN, "a.bin": noise(3000)})
        r = self.emu.upload(APP_ID, os.path.basename(path), data)
        self.assertEqual(r.status, 201, r)
        url = urlparse(r.json["url"])
        fid = self.fault(dict(rule, scope={}))
        done = []

        def download():
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=60)
            conn.request("GET", "%s?%s" % (url.path, url.query))
            body = conn.getresponse().read()
            done.append((time.monotonic(), time.monotonic() - started, body))
            conn.close()

        threads = [threading.Thread(target=download) for _ in range(self.N)]
        for t in threads:
            t.start()
        wait_for(lambda: self.fired(fid) == self.N, timeout=30, what="every download under the fault")
        self.assertEqual(self.emu.get("/api/v1/products").status, 200)
        answered = time.monotonic()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(len(done), self.N)
        self.assertLess(answered, min(end for end, _, _ in done), "the API waited for the downloads")
        for _, took, body in done:
            self.assertEqual(body, data)
            self.assertGreaterEqual(took, wait_s)
        return len(data), [took for _, took, _ in done]

    def test_delayed_downloads_hold_up_nobody(self):
        self.check_waiting("0.2.0", {"action": "delay", "ms": 2000}, 2.0)

    def test_stalled_downloads_hold_up_nobody(self):
        self.check_waiting("0.2.1", {"action": "stall", "at": 1000, "ms": 2000}, 2.0)

    def test_capped_downloads_hold_up_nobody(self):
        # 1,000 bytes a second: the package (a few KiB) takes seconds. The
        # cap is each download's: all N at once must not take much longer
        # than one (sleeping in the worker, two downloads shared a thread
        # and each went at half the cap).
        size, took = self.check_waiting("0.2.2", {"action": "bandwidth", "bytesPerSecond": 1000}, 2.0)
        for t in took:
            self.assertLess(t, 1.6 * size / 1000.0)
