"""The virtual clock (--clock virtual, GET/POST /api/v1/clock) and test
task timeouts: every time the emulator uses comes from its one clock, so a
package URL expires and a pushed device that never answers times out
without any real waiting; ids and secrets repeat from run to run; a real
clock refuses to be moved.
"""
import json
import urllib.parse

from harness import APP_ID, Emulator, EmulatorTest, make_package, package_name, wait_for
from mqtt_device import Device

START = "2026-01-01T00:00:00Z"


class VirtualClockTest(EmulatorTest):
    emulator_args = ("--clock", "virtual", "--url-ttl", "60", "--task-timeout", "30")

    def advance(self, seconds):
        r = self.emu.post("/api/v1/clock", {"advanceSeconds": seconds})
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_clock_stands_still_until_moved(self):
        c = self.emu.get("/api/v1/clock").json
        self.assertEqual(c["mode"], "virtual")
        pk = self.emu.product("clock")
        created = self.emu.get("/api/v1/products/%s" % pk).json["createdAt"]
        self.assertEqual(created, self.emu.get("/api/v1/clock").json["now"])  # it did not move by itself
        moved = self.advance(90)
        self.assertEqual(moved["nowMs"], c["nowMs"] + 90000)
        later = self.emu.post("/api/v1/clock", {"set": "2030-01-01T00:00:00Z"}).json
        self.assertEqual(later["now"], "2030-01-01T00:00:00Z")
        # an offset and fractions of a second (JavaScript's toISOString) are read too
        self.assertEqual(self.emu.post("/api/v1/clock", {"set": "2030-01-01T00:00:00.000Z"}).status, 200)
        for body, code in [({"set": "2030-01-01T07:59:59+08:00"}, "ClockBackwards"), ({"advanceSeconds": -1}, "InvalidClock"),
                           ({"advanceSeconds": 1, "set": "2031-01-01T00:00:00Z"}, "InvalidClock"),
                           ({"set": "tomorrow"}, "InvalidClock"), ({}, "InvalidClock")]:
            self.assertEqual(self.emu.post("/api/v1/clock", body).code, code, body)
        self.assertEqual(self.emu.get("/api/v1/clock").json["now"], "2030-01-01T00:00:00Z")

    def test_a_package_url_expires_without_waiting(self):
        self.emu.app()
        r = self.emu.upload(APP_ID, package_name("0.0.2"), make_package({}, version="0.0.2"))
        self.assertEqual(r.status, 201, r)
        url = urllib.parse.urlparse(r.json["url"])
        path = url.path + "?" + url.query
        self.assertEqual(self.emu.get(path).status, 200)
        self.advance(59)
        self.assertEqual(self.emu.get(path).status, 200)
        self.advance(2)
        r = self.emu.get(path)
        self.assertEqual(r.status, 403)
        self.assertIn(b"Request has expired", r.body)

    def test_a_silent_task_device_times_out_and_a_push_again_retries_it(self):
        emu = self.emu
        pk = emu.product("timeouts")
        ds = emu.device(pk, "quiet-01")["deviceSecret"]
        emu.post("/api/v1/apps", {"appName": "clockapp", "appId": "8800100099991234"})
        r = emu.upload("8800100099991234", "clockapp-8800100099991234-0.0.2.tar.gz",
                       make_package({}, name="clockapp", app_id="8800100099991234", version="0.0.2"))
        self.assertEqual(r.status, 201, r)
        gid = emu.post("/api/v1/groups", {"name": "quiet"}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "quiet-01"}]})
        own = emu.post("/api/v1/tasks", {"appId": "8800100099991234", "version": "0.0.2", "groupId": gid,
                                         "timeoutSeconds": 10}).json
        server_default = emu.post("/api/v1/tasks", {"appId": "8800100099991234", "version": "0.0.2",
                                                    "groupId": gid}).json
        self.assertEqual((own["timeoutSeconds"], server_default["timeoutSeconds"]), (10, None))
        self.assertEqual(emu.post("/api/v1/tasks", {"appId": "8800100099991234", "version": "0.0.2", "groupId": gid,
                                                    "timeoutSeconds": -5}).code, "InvalidTask")
        d = Device(emu.mqtt_port, pk, "quiet-01", ds)
        d.connect()
        try:
            wait_for(lambda: emu.get("/api/v1/products/%s/devices/quiet-01" % pk).json["status"] == "online",
                     what="online")
            for task in (own, server_default):
                self.assertEqual(emu.post("/api/v1/tasks/%s/push" % task["taskId"]).json["pushed"], 1)
            state = lambda t: emu.get("/api/v1/tasks/%s" % t["taskId"]).json["devices"][0]["state"]
            self.advance(9)
            self.assertEqual((state(own), state(server_default)), ("pushed", "pushed"))
            self.advance(1)  # 10 s: the task's own timeout
            wait_for(lambda: state(own) == "timedOut", what="own timeout")
            self.assertEqual(state(server_default), "pushed")
            self.advance(20)  # 30 s: --task-timeout
            wait_for(lambda: state(server_default) == "timedOut", what="server timeout")
            task = emu.get("/api/v1/tasks/%s" % own["taskId"]).json
            self.assertEqual(task["counts"]["timedOut"], 1)
            # pushing again retries; a result now counts
            self.assertEqual(emu.post("/api/v1/tasks/%s/push" % own["taskId"]).json["pushed"], 1)
            self.assertEqual(state(own), "pushed")
            d.result(200, "8800100099991234", "0.0.2", "0.0.1")
            wait_for(lambda: state(own) == "succeeded", what="succeeded after the retry")
        finally:
            d.close()

    def test_a_push_again_restarts_the_timeout_of_a_device_still_waiting(self):
        emu = self.emu
        pk = emu.product("again")
        ds = emu.device(pk, "waits-01")["deviceSecret"]
        app_id = "8800100099995678"
        emu.post("/api/v1/apps", {"appName": "againapp", "appId": app_id})
        r = emu.upload(app_id, "againapp-%s-0.0.2.tar.gz" % app_id,
                       make_package({}, name="againapp", app_id=app_id, version="0.0.2"))
        self.assertEqual(r.status, 201, r)
        gid = emu.post("/api/v1/groups", {"name": "again"}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "waits-01"}]})
        again, once = (emu.post("/api/v1/tasks", {"appId": app_id, "version": "0.0.2", "groupId": gid,
                                                  "timeoutSeconds": 10}).json["taskId"] for _ in range(2))
        d = Device(emu.mqtt_port, pk, "waits-01", ds)
        d.connect()
        try:
            wait_for(lambda: emu.get("/api/v1/products/%s/devices/waits-01" % pk).json["status"] == "online",
                     what="online")
            row = lambda task: emu.get("/api/v1/tasks/%s" % task).json["devices"][0]
            for task in (again, once):
                self.assertEqual(emu.post("/api/v1/tasks/%s/push" % task).json["pushed"], 1)
            pushed_at = row(again)["updatedAt"]
            self.advance(5)
            self.assertEqual(emu.post("/api/v1/tasks/%s/push" % again).json["pushed"], 1)
            self.assertEqual(row(again)["updatedAt"], pushed_at)  # still 'pushed' since then
            self.advance(5)  # 10 s after the first pushes: the one pushed once times out
            wait_for(lambda: row(once)["state"] == "timedOut", what="the task pushed once to time out")
            self.assertEqual(row(again)["state"], "pushed")  # 5 s after its push again
            self.advance(5)
            wait_for(lambda: row(again)["state"] == "timedOut", what="10 s after the push again")
        finally:
            d.close()


class RepeatableRunTest(EmulatorTest):
    """Two emulators on the virtual clock, the same requests: the same ids,
    secrets and times."""

    def run_script(self, name):
        emu = Emulator(name, ["--clock", "virtual", "--random-seed", "7"]).start()
        try:
            pk = emu.product("same")
            device = emu.device(pk, "dev-01")
            gid = emu.post("/api/v1/groups", {"name": "g"}).json["groupId"]
            return json.dumps([pk, device, gid, emu.get("/api/v1/groups/%s" % gid).json], sort_keys=True)
        finally:
            emu.stop()

    def test_two_runs_answer_alike(self):
        first, second = self.run_script("clock-repeat-1"), self.run_script("clock-repeat-2")
        self.assertEqual(first, second)
        self.assertIn(START, first)


class RealClockTest(EmulatorTest):
    def test_a_real_clock_cannot_be_moved(self):
        self.assertEqual(self.emu.get("/api/v1/clock").json["mode"], "real")
        self.assertEqual(self.emu.post("/api/v1/clock", {"advanceSeconds": 5}).code, "ClockNotVirtual")
