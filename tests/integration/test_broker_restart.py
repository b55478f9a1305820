"""Nothing lost when the broker dies: kill -9 of the managed mosquitto while
100 simulated Core2s (haas-device --fleet) upgrade, ten times over; every
round ends with every device succeeded. What makes it hold: the plugin lets
devices in only once haas-emu listens again (their results never go to a
broker with no subscriber), and a device that reports the version its task
pushed (its upgrade query after every reconnect) counts as succeeded even
when its app.result died with the old broker."""
import os
import random
import shutil
import signal
import subprocess

from harness import APP_ID, OUT, EmulatorTest, make_package, package_name, wait_for
from sim_device import write_app

FLEET = int(os.environ.get("HAAS_RESTART_FLEET", "100"))
ROUNDS = int(os.environ.get("HAAS_RESTART_ROUNDS", "10"))
DEVICE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "build", "haas-device")


class BrokerRestartTest(EmulatorTest):
    def setUp(self):
        emu = self.emu
        self.pk = emu.product("restart fleet")
        r = emu.post("/api/v1/products/%s/devices" % self.pk, {"count": FLEET, "prefix": "k9-"})
        self.assertEqual(r.status, 201, r)
        self.devices = r.json["items"]
        emu.app()
        work = os.path.join(OUT, "devices", "broker-restart")
        shutil.rmtree(work, ignore_errors=True)
        template = os.path.join(work, "template")
        write_app(template, "0.1.0", {"main.py": "print('v0')\n"})
        fleet_file = os.path.join(work, "fleet.txt")
        with open(fleet_file, "w") as f:
            for d in self.devices:
                f.write("%s %s %s\n" % (d["productKey"], d["deviceName"], d["deviceSecret"]))
        roots = os.path.join(work, "roots")
        os.makedirs(roots)
        self.log = open(os.path.join(OUT, "logs", "device-broker-restart.log"), "wb")
        self.fleet = subprocess.Popen([DEVICE, "--fleet", fleet_file, "--broker", "127.0.0.1:%d" % emu.mqtt_port,
                                       "--root", roots, "--init-app", template, "--threads", "2"],
                                      stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_fleet)
        wait_for(lambda: self.online() >= FLEET, timeout=60, what="fleet online")
        gid = emu.post("/api/v1/groups", {"name": "k9"}).json["groupId"]
        emu.post("/api/v1/groups/%s/devices" % gid,
                 {"devices": [{"productKey": self.pk, "deviceName": d["deviceName"]} for d in self.devices]})
        self.gid = gid

    def stop_fleet(self):
        self.fleet.terminate()
        try:
            self.fleet.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fleet.kill()
            self.fleet.wait()
        self.log.close()

    def online(self):
        return self.emu.get("/api/v1/products/%s/devices?status=online&limit=1" % self.pk).json["total"]

    def counts(self, tid):
        return self.emu.get("/api/v1/tasks/" + tid).json["counts"]

    def test_kill_broker_during_upgrades(self):
        emu = self.emu
        rnd = random.Random(9)  # fixed: the same kill points every run
        for k in range(1, ROUNDS + 1):
            version = "0.1.%d" % k
            self.assertEqual(emu.upload(APP_ID, package_name(version),
                                        make_package({"main.py": "print(%d)\n" % k}, version=version)).status, 201)
            tid = emu.post("/api/v1/tasks", {"appId": APP_ID, "version": version, "groupId": self.gid}).json["taskId"]
            health = emu.get("/healthz").json
            broker, links = health["brokerPid"], health["linkConnects"]
            self.assertEqual(emu.post("/api/v1/tasks/%s/push" % tid).json["pushed"], FLEET, "round %d" % k)
            # kill at a point where some devices have answered and some not
            target = rnd.randint(1, FLEET // 2)
            wait_for(lambda: self.counts(tid)["succeeded"] >= target, timeout=60,
                     interval=0.005, what="round %d: first results" % k)
            os.kill(broker, signal.SIGKILL)
            wait_for(lambda: emu.get("/healthz").json.get("brokerPid") not in (broker, 0), timeout=20,
                     what="round %d: broker restarted" % k)
            try:
                wait_for(lambda: self.counts(tid)["succeeded"] == FLEET, timeout=90,
                         what="round %d: all %d succeeded" % (k, FLEET))
            except AssertionError:
                raise AssertionError("round %d: %r" % (k, self.counts(tid)))
            # the next push needs haas-emu's own link back, not only the devices
            wait_for(lambda: emu.get("/healthz").json.get("linkConnects", 0) > links, timeout=60,
                     what="round %d: haas-emu's MQTT link back" % k)
            wait_for(lambda: self.online() >= FLEET, timeout=60, what="round %d: fleet back online" % k)
