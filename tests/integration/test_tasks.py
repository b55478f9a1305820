"""REST API: test tasks (tutorial 5.4-5.6) and general HTTP behaviour."""
import socket

from harness import APP_ID, EmulatorTest, make_package, package_name


class TasksTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        emu = cls.emu
        cls.pk = emu.product("tasks")
        emu.device(cls.pk, "t-dev1")
        emu.device(cls.pk, "t-dev2")
        cls.gid = emu.post("/api/v1/groups", {"name": "test group"}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % cls.gid,
                 {"devices": [{"productKey": cls.pk, "deviceName": dn} for dn in ("t-dev1", "t-dev2")]})
        emu.app()
        for ver in ("0.0.2", "0.0.3"):
            assert emu.upload(APP_ID, package_name(ver), make_package({}, version=ver)).status == 201

    def create(self, **overrides):
        body = {"appId": APP_ID, "version": "0.0.2", "groupId": self.gid}
        body.update(overrides)
        return self.emu.post("/api/v1/tasks", body)

    def test_create_and_get(self):
        r = self.create()
        self.assertEqual(r.status, 201, r)
        t = r.json
        self.assertTrue(t["taskId"].startswith("task-"))
        self.assertEqual((t["appId"], t["appName"], t["version"], t["groupId"], t["pushCount"], t["pushedAt"]),
                         (APP_ID, "python9000", "0.0.2", self.gid, 0, None))
        self.assertEqual(t["counts"]["total"], 2)
        self.assertEqual(t["counts"]["pending"], 2)
        self.assertEqual(sorted(d["deviceName"] for d in t["devices"]), ["t-dev1", "t-dev2"])
        self.assertTrue(all(d["state"] == "pending" for d in t["devices"]))
        got = self.emu.get("/api/v1/tasks/" + t["taskId"]).json
        self.assertEqual(got["taskId"], t["taskId"])
        listed = self.emu.get("/api/v1/tasks?appId=" + APP_ID).json
        self.assertIn(t["taskId"], [x["taskId"] for x in listed["items"]])
        self.assertNotIn("devices", listed["items"][0])

    def test_create_refusals(self):
        self.assertEqual(self.create(appId="8800100000009999").code, "AppNotFound")
        self.assertEqual(self.create(version="9.9.9").code, "VersionNotFound")
        self.assertEqual(self.create(groupId="grp-none").code, "GroupNotFound")
        self.assertEqual(self.create(version=3).code, "InvalidTask")
        before = self.emu.get("/api/v1/tasks").json["total"]
        self.emu.post("/api/v1/apps/%s/versions/0.0.3/deprecate" % APP_ID)
        r = self.create(version="0.0.3")
        self.assertEqual((r.status, r.code), (409, "VersionDeprecated"))
        self.assertEqual(self.emu.get("/api/v1/tasks").json["total"], before)

    def test_push_with_every_device_offline(self):
        t = self.create().json
        r = self.emu.post("/api/v1/tasks/%s/push" % t["taskId"])
        self.assertEqual((r.status, r.json), (200, {"pushed": 0, "offline": 2, "upToDate": 0, "notSent": 0}))
        got = self.emu.get("/api/v1/tasks/" + t["taskId"]).json
        self.assertEqual([d["state"] for d in got["devices"]], ["offline", "offline"])
        self.assertEqual((got["pushCount"], got["counts"]["offline"]), (1, 2))
        self.assertIsNotNone(got["pushedAt"])
        self.assertEqual(self.emu.post("/api/v1/tasks/task-none/push").code, "TaskNotFound")
        self.assertEqual(self.emu.get("/api/v1/tasks/task-none").code, "TaskNotFound")

    def test_devices_page_by_page(self):
        t = self.create().json
        tid = t["taskId"]
        page = self.emu.get("/api/v1/tasks/%s/devices?limit=1" % tid).json
        self.assertEqual((page["total"], page["offset"], page["limit"]), (2, 0, 1))
        self.assertEqual([(d["deviceName"], d["state"]) for d in page["items"]], [("t-dev1", "pending")])
        page = self.emu.get("/api/v1/tasks/%s/devices?offset=1&limit=1" % tid).json
        self.assertEqual([d["deviceName"] for d in page["items"]], ["t-dev2"])
        self.assertEqual(self.emu.post("/api/v1/tasks/%s/push" % tid).json["offline"], 2)
        offline = self.emu.get("/api/v1/tasks/%s/devices?state=offline" % tid).json
        self.assertEqual((offline["total"], len(offline["items"])), (2, 2))
        self.assertEqual(offline["items"], self.emu.get("/api/v1/tasks/" + tid).json["devices"])
        pending = self.emu.get("/api/v1/tasks/%s/devices?state=pending" % tid).json
        self.assertEqual((pending["total"], pending["items"]), (0, []))
        r = self.emu.get("/api/v1/tasks/%s/devices?state=done" % tid)
        self.assertEqual((r.status, r.code), (400, "InvalidParameter"))
        r = self.emu.get("/api/v1/tasks/%s/devices?limit=0" % tid)
        self.assertEqual((r.status, r.code), (400, "InvalidParameter"))
        self.assertEqual(self.emu.get("/api/v1/tasks/task-none/devices").code, "TaskNotFound")
        # the task without its devices: what a console polls
        bare = self.emu.get("/api/v1/tasks/%s?devices=false" % tid).json
        self.assertNotIn("devices", bare)
        self.assertEqual(bare["counts"], self.emu.get("/api/v1/tasks/" + tid).json["counts"])
        self.assertIn("devices", self.emu.get("/api/v1/tasks/%s?devices=true" % tid).json)
        r = self.emu.get("/api/v1/tasks/%s?devices=no" % tid)
        self.assertEqual((r.status, r.code), (400, "InvalidParameter"))

    def test_a_big_group_s_whole_list(self):
        """The single-task answer lists every member of a group of any size
        (built as text one member at a time): all 3,000 here, in order, the
        same rows the pages give, and an empty group's list is []."""
        emu = self.emu
        pk = emu.product("big-task")
        items = emu.post("/api/v1/products/%s/devices" % pk, {"count": 3000, "prefix": "big-"}).json["items"]
        gid = emu.post("/api/v1/groups", {"name": "big"}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % gid,
                 {"devices": [{"productKey": pk, "deviceName": d["deviceName"]} for d in items]})
        created = self.create(groupId=gid)
        self.assertEqual(created.status, 201, created)
        names = [d["deviceName"] for d in created.json["devices"]]
        self.assertEqual(names, sorted(d["deviceName"] for d in items))
        self.assertEqual(list(created.json)[-1], "devices")  # the list stays the last member
        tid = created.json["taskId"]
        self.assertEqual(emu.post("/api/v1/tasks/%s/push" % tid).json["offline"], 3000)
        whole = emu.get("/api/v1/tasks/" + tid).json
        pages = [d for offset in range(0, 3000, 500)
                 for d in emu.get("/api/v1/tasks/%s/devices?offset=%d&limit=500" % (tid, offset)).json["items"]]
        self.assertEqual(whole["devices"], pages)
        self.assertEqual(whole["counts"]["offline"], 3000)
        empty = emu.post("/api/v1/groups", {"name": "no members"}).json["groupId"]
        self.assertEqual(self.create(groupId=empty).json["devices"], [])

    def test_deleting_the_group_deletes_its_tasks(self):
        gid = self.emu.post("/api/v1/groups", {"name": "short-lived"}).json["groupId"]
        tid = self.create(groupId=gid).json["taskId"]
        self.emu.delete("/api/v1/groups/" + gid)
        self.assertEqual(self.emu.get("/api/v1/tasks/" + tid).status, 404)


class HttpBehaviourTest(EmulatorTest):
    def test_unknown_paths_and_methods(self):
        r = self.emu.get("/api/v1/nothing")
        self.assertEqual((r.status, r.code), (404, "NotFound"))
        r = self.emu.request("PUT", "/api/v1/products")
        self.assertEqual((r.status, r.code), (405, "MethodNotAllowed"))
        r = self.emu.request("PATCH", "/api/v1/apps/8800100000000000")
        self.assertEqual((r.status, r.code), (405, "MethodNotAllowed"))

    def test_health(self):
        r = self.emu.get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "ok")
        self.assertIn("broker", r.json)

    def test_garbage_requests_do_not_hurt(self):
        for raw in (b"\x00\x01\x02 garbage\r\n\r\n", b"GET\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                    b"POST /api/v1/products HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                    b"POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            with socket.create_connection(("127.0.0.1", self.emu.port), timeout=5) as s:
                s.sendall(raw)
                try:
                    s.shutdown(socket.SHUT_WR)
                    reply = s.recv(4096)
                except OSError:
                    reply = b""
            self.assertTrue(reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply[:100])
        self.assertEqual(self.emu.get("/healthz").status, 200)

    def test_chunked_json_body(self):
        with socket.create_connection(("127.0.0.1", self.emu.port), timeout=5) as s:
            body = b'{"name":"chunked"}'
            s.sendall(b"POST /api/v1/products HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            reply = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 201"), reply[:200])
