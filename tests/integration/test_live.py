"""What the console builds on: its static files served by haas-emu, the
change counter, and the log of MQTT messages per task."""
import json
import os
import shutil
import socket

from harness import APP_ID, OUT, EmulatorTest, make_package, package_name, wait_for
from mqtt_device import Device

WEB = os.path.join(OUT, "web-fixture")


def make_web():
    shutil.rmtree(WEB, ignore_errors=True)
    os.makedirs(os.path.join(WEB, "css"))
    files = {"index.html": "<!doctype html><title>t</title>", "app.js": "export const x = 1;\n",
             "css/site.css": "body{}", ".secret": "no", "notes.exe": "no"}
    for name, text in files.items():
        with open(os.path.join(WEB, name), "w") as f:
            f.write(text)


class StaticFilesTest(EmulatorTest):
    @classmethod
    def setUpClass(cls):
        make_web()
        cls.emulator_args = ("--web-dir", WEB)
        super().setUpClass()

    def test_files_and_types(self):
        for path, ctype, body in (("/", "text/html", b"<!doctype html>"), ("/index.html", "text/html", b"<!doctype"),
                                  ("/app.js", "text/javascript", b"export"), ("/css/site.css", "text/css", b"body")):
            r = self.emu.get(path)
            self.assertEqual(r.status, 200, path)
            self.assertTrue(r.headers["content-type"].startswith(ctype), (path, r.headers["content-type"]))
            self.assertTrue(r.body.startswith(body), path)

    def test_nothing_else_is_served(self):
        for path in ("/.secret", "/notes.exe", "/nothing.js", "/css/../index.html", "/css/.hidden.css",
                     "/%2e%2e/etc/passwd", "/css//site.css"):
            self.assertEqual(self.emu.get(path).status, 404, path)
        # raw request with a dot-dot path straight on the socket
        with socket.create_connection(("127.0.0.1", self.emu.port)) as s:
            s.sendall(b"GET /../../etc/passwd HTTP/1.0\r\n\r\n")
            reply = s.recv(4096)
        self.assertNotIn(b"root:", reply)

    def test_api_index_and_downloads_still_work(self):
        self.assertEqual(self.emu.get("/api/v1").json["api"], "/api/v1")
        self.emu.app()
        url = self.emu.upload(APP_ID, package_name(), make_package({})).json["url"]
        self.assertEqual(self.emu.get(url.split(str(self.emu.port), 1)[1]).status, 200)


class LiveTest(EmulatorTest):
    def test_rev_moves_on_writes_only(self):
        rev = self.emu.get("/api/v1/rev").json["rev"]
        self.emu.get("/api/v1/products")
        self.assertEqual(self.emu.get("/api/v1/rev").json["rev"], rev)
        self.emu.product("rev")
        self.assertGreater(self.emu.get("/api/v1/rev").json["rev"], rev)
        before = self.emu.get("/api/v1/rev").json["rev"]
        self.emu.post("/api/v1/products", {"name": ""})  # refused: no change
        self.assertEqual(self.emu.get("/api/v1/rev").json["rev"], before)

    def test_task_messages(self):
        pk = self.emu.product("live")
        ds = self.emu.device(pk, "live-1")["deviceSecret"]
        self.emu.app()
        self.emu.upload(APP_ID, package_name(), make_package({}))
        gid = self.emu.post("/api/v1/groups", {"name": "g"}).json["groupId"]
        self.emu.post("/api/v1/groups/%s/devices" % gid, {"devices": [{"productKey": pk, "deviceName": "live-1"}]})
        tid = self.emu.post("/api/v1/tasks", {"appId": APP_ID, "version": "0.0.2", "groupId": gid}).json["taskId"]
        d = Device(self.emu.mqtt_port, pk, "live-1", ds).connect()
        try:
            wait_for(lambda: self.emu.get("/api/v1/products/%s/devices/live-1" % pk).json["status"] == "online",
                     what="online")
            start = self.emu.get("/api/v1/messages?limit=500").json["next"]
            self.emu.post("/api/v1/tasks/%s/push" % tid)
            push = d.wait_push()
            d.result(404, APP_ID, "0.0.2", "0.0.1")
            wait_for(lambda: len(self.emu.get("/api/v1/messages?taskId=" + tid).json["items"]) == 2,
                     what="push and result logged")
            items = self.emu.get("/api/v1/messages?taskId=" + tid).json["items"]
            self.assertEqual([(m["direction"], m["kind"]) for m in items], [("out", "push"), ("in", "result")])
            self.assertEqual(json.loads(items[0]["payload"]), push)
            self.assertEqual(items[1]["deviceName"], "live-1")
            self.assertEqual(json.loads(items[1]["payload"])["params"]["argInt"], 404)
            # paging with after=
            page = self.emu.get("/api/v1/messages?after=%d&limit=1" % start).json
            self.assertEqual(len(page["items"]), 1)
            self.assertGreater(page["next"], start)
            rest = self.emu.get("/api/v1/messages?after=%d&deviceName=live-1" % page["next"]).json["items"]
            self.assertTrue(all(m["seq"] > page["next"] for m in rest))
            for q in ("after=x", "limit=0", "limit=501"):
                self.assertEqual(self.emu.get("/api/v1/messages?" + q).code, "InvalidParameter")
        finally:
            d.close()


